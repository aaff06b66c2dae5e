import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { spawnHttpServer, type ServerProcess } from './support/processes.js';

const CLI = path.resolve('dist/cli.js');
const MIB = 1024 * 1024;
/** Small enough to fill with a few bodies; the HD tools' own limit is larger (57 MiB). */
const BUDGET = 32 * MIB;
/** What a slow client holds of it in most tests, and a body that would pass what is left then. */
const HELD = 20 * MIB;
const OVER_LEFT = 16 * MIB;
const HD = '/api/tools/hd-general-segmentation';
const MCP_HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
/** A REST caller that says it pays, so its large body is read rather than answered 402 first. */
const PAID_JSON = { 'content-type': 'application/json', 'x-payment-token': 'imgseg_not-a-real-token' };

let server: ServerProcess;
let base: string;
let dataDirectory: string;

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  json: Record<string, any>;
}

/** A JSON body of exactly `bytes` bytes carrying one base64 image: an MCP tools/call, or REST arguments. */
function bodyOf(kind: 'mcp' | 'rest', bytes: number): Buffer {
  const [prefix, suffix] =
    kind === 'mcp'
      ? ['{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"hd_general_segmentation","arguments":{"ImageUrl":"data:image/png;base64,', '"}}}']
      : ['{"ImageUrl":"data:image/png;base64,', '"}'];
  const body = Buffer.alloc(bytes, 'A');
  body.write(prefix, 0);
  body.write(suffix, bytes - suffix.length);
  return body;
}

/**
 * A POST whose headers go out at once (with Content-Length `length`, or chunked); its body is sent with `send`,
 * which stops writing once the server has answered.
 */
function open(route: string, headers: Record<string, string>, length: number | 'chunked') {
  const request = http.request(`${base}${route}`, { method: 'POST', headers: { ...headers, ...(length === 'chunked' ? {} : { 'content-length': String(length) }) } });
  let answered = false;
  const answer = new Promise<Answer>((resolve, reject) => {
    request.on('response', (response) => {
      answered = true;
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, json: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, any> }));
    });
    request.on('error', (error) => {
      if (!answered) reject(error);
    });
  });
  request.flushHeaders();
  const send = (bytes: Buffer, end = true) =>
    new Promise<void>((resolve) => {
      // A server that answers early closes the connection soon after: no 'drain' then.
      request.once('close', resolve);
      let offset = 0;
      const pump = (): void => {
        while (offset < bytes.length && !answered && !request.destroyed) {
          const piece = bytes.subarray(offset, offset + MIB);
          offset += piece.length;
          if (!request.write(piece)) return void request.once('drain', pump);
        }
        if (end && !answered && !request.destroyed) request.end();
        resolve();
      };
      pump();
    });
  return { request, answer, send };
}

/** The answer to a whole body; one refused early comes back while the rest of the body is still unsent. */
function post(route: string, headers: Record<string, string>, body: Buffer, chunked = false): Promise<Answer> {
  const sent = open(route, headers, chunked ? 'chunked' : body.length);
  void sent.send(body);
  return sent.answer;
}

/**
 * An MCP body of `bytes` that has begun to arrive and is held open, as a slow client's would be: it holds its
 * declared length of the budget until it is finished or abandoned.
 */
async function holdBudget(bytes: number, route = '/mcp', headers: Record<string, string> = MCP_HEADERS) {
  const body = bodyOf(route === '/mcp' ? 'mcp' : 'rest', bytes);
  const sent = open(route, headers, bytes);
  await sent.send(body.subarray(0, MIB), false);
  await new Promise((resolve) => setTimeout(resolve, 300));
  return {
    finish: async () => {
      await sent.send(body.subarray(MIB));
      return sent.answer;
    },
    abandon: () => {
      sent.answer.catch(() => undefined);
      sent.request.destroy();
    },
  };
}

/** Resident memory of the server process now, from the kernel. */
function residentBytes(): number {
  return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${server.child.pid}/status`, 'utf8'))![1]) * 1024;
}

/** The highest resident memory seen while `work` runs, sampled every 5 ms. */
async function peakResidentDuring(work: () => Promise<unknown>): Promise<number> {
  let peak = residentBytes();
  const sampler = setInterval(() => {
    peak = Math.max(peak, residentBytes());
  }, 5);
  try {
    await work();
  } finally {
    clearInterval(sampler);
  }
  return Math.max(peak, residentBytes());
}

/** Whether an MCP body of `bytes` is read and answered now (the payment-required tool result), retrying while busy. */
async function admitted(bytes: number): Promise<boolean> {
  for (let attempt = 0; attempt < 20; attempt += 1) {
    const answer = await post('/mcp', MCP_HEADERS, bodyOf('mcp', bytes));
    if (answer.status === 200) return answer.json.result?.isError === true;
    if (answer.status !== 503) return false;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return false;
}

const expectBusyOnMcp = (answer: Answer) => {
  expect(answer.status).toBe(503);
  expect(answer.headers['retry-after']).toBe('2');
  expect(answer.json).toMatchObject({ jsonrpc: '2.0', id: null, error: { code: -32000, data: { code: 'SERVER_BUSY', retryable: true, details: { budgetBytes: BUDGET } } } });
};

const expectBusyOnRest = (answer: Answer) => {
  expect(answer.status).toBe(503);
  expect(answer.headers['retry-after']).toBe('2');
  expect(answer.json.error).toMatchObject({ code: 'SERVER_BUSY', retryable: true, details: { budgetBytes: BUDGET, retryAfterSeconds: 2, charged: false } });
};

beforeAll(async () => {
  if (!existsSync(CLI)) throw new Error('dist/cli.js is missing: run `npm run build` (npm test does)');
  dataDirectory = mkdtempSync(path.join(tmpdir(), 'imageseg-budget-'));
  server = await spawnHttpServer({ HOME: dataDirectory, DATABASE_URL: path.join(dataDirectory, 'imageseg.db'), IMAGESEG_BODY_BUDGET_BYTES: String(BUDGET) });
  base = server.url;
  // The first call loads what every call needs, so memory measured later is about bodies.
  expect(await admitted(MIB)).toBe(true);
});

afterAll(async () => {
  await server?.stop();
  rmSync(dataDirectory, { recursive: true, force: true });
});

/** Runs `work` while a slow client holds `HELD` of the budget; the held body is finished (and answered) after. */
async function whileHeld(work: () => Promise<void>): Promise<void> {
  const held = await holdBudget(HELD);
  try {
    await work();
  } catch (error) {
    held.abandon();
    throw error;
  }
  expect((await held.finish()).status).toBe(200);
}

describe('the body budget (IMAGESEG_BODY_BUDGET_BYTES): bytes of request bodies in flight, across the process', () => {
  it('answers 503 SERVER_BUSY with Retry-After, before a byte of it is sent, a body whose Content-Length would pass what is left', async () => {
    await whileHeld(async () => {
      // Only the headers go out: the answers cannot have waited for the bodies.
      expectBusyOnMcp(await open('/mcp', MCP_HEADERS, OVER_LEFT).answer);
      expectBusyOnRest(await open(HD, PAID_JSON, OVER_LEFT).answer);
      expectBusyOnRest(await open(HD, { ...PAID_JSON, 'content-type': 'image/png' }, OVER_LEFT).answer);
      expectBusyOnRest(await open(HD, { ...PAID_JSON, 'content-type': 'multipart/form-data; boundary=x' }, OVER_LEFT).answer);
      // What is left still takes a body that fits.
      expect(await admitted(BUDGET - HELD - MIB)).toBe(true);
    });
  });

  it('keeps the server process at the same resident memory while it refuses bodies over what is left', async () => {
    // As large as the budget lets a refused body be (a larger one is 413): 240 MiB refused in all.
    const bodyBytes = BUDGET - MIB;
    const bodies = { mcp: bodyOf('mcp', bodyBytes), rest: bodyOf('rest', bodyBytes) };
    await whileHeld(async () => {
      const before = residentBytes();
      const answers: Answer[] = [];
      const peak = await peakResidentDuring(async () => {
        const refused = [
          ...Array.from({ length: 4 }, () => post('/mcp', MCP_HEADERS, bodies.mcp)),
          ...Array.from({ length: 4 }, () => post(HD, PAID_JSON, bodies.rest)),
        ];
        answers.push(...(await Promise.all(refused)));
      });
      console.info(`server resident memory ${(before / MIB).toFixed(1)} MiB before, at most ${(peak / MIB).toFixed(1)} MiB while it refused 8 bodies of ${bodyBytes / MIB} MiB`);
      expect(answers.map((answer) => answer.status)).toEqual(Array(8).fill(503));
      // What may move is what each refused connection drops unread while its answer goes out (closeAfterAnswer):
      // whatever its client had sent by then, at most 4 MiB.
      expect(peak - before, 'growth of resident memory').toBeLessThan(24 * MIB);
    });
  });

  it('answers 413 a body longer than the whole budget though within the route limit: from Content-Length unread, chunked once past it', async () => {
    const mcp = await open('/mcp', MCP_HEADERS, BUDGET + 1).answer;
    expect(mcp).toMatchObject({ status: 413, json: { jsonrpc: '2.0', id: null, error: { code: -32600, data: { code: 'IMAGE_TOO_LARGE', details: { limitBytes: BUDGET } } } } });
    const rest = await open(HD, PAID_JSON, BUDGET + 1).answer;
    expect(rest).toMatchObject({ status: 413, json: { error: { code: 'IMAGE_TOO_LARGE', details: { limitBytes: BUDGET, bytes: BUDGET + 1 } } } });
    const chunkedMcp = await post('/mcp', MCP_HEADERS, bodyOf('mcp', BUDGET + 4 * MIB), true);
    expect(chunkedMcp).toMatchObject({ status: 413, json: { jsonrpc: '2.0', id: null, error: { code: -32600, data: { code: 'IMAGE_TOO_LARGE' } } } });
    const chunkedRest = await post(HD, PAID_JSON, bodyOf('rest', BUDGET + 4 * MIB), true);
    expect(chunkedRest).toMatchObject({ status: 413, json: { error: { code: 'IMAGE_TOO_LARGE', details: { limitBytes: BUDGET } } } });
  });

  it('counts a chunked body as it arrives and cuts it off with 503 when it passes what is left', async () => {
    await whileHeld(async () => {
      expectBusyOnMcp(await post('/mcp', MCP_HEADERS, bodyOf('mcp', OVER_LEFT), true));
      expectBusyOnRest(await post(HD, PAID_JSON, bodyOf('rest', OVER_LEFT), true));
    });
  });

  it('frees a body’s share when it has been parsed, refused, or abandoned by its client mid-body', async () => {
    // Parsed: once the held body is answered, a body as large as what it held is read.
    await whileHeld(async () => {
      expect(await post('/mcp', MCP_HEADERS, bodyOf('mcp', OVER_LEFT))).toMatchObject({ status: 503 });
    });
    expect(await admitted(HELD)).toBe(true);

    // Refused: the 503s and 413s above hold nothing, so the whole budget is there.
    expect(await admitted(BUDGET - 4096)).toBe(true);

    // Abandoned: a client that goes away mid-body, on /mcp or REST, gives its share back.
    for (const [route, headers] of [['/mcp', MCP_HEADERS], [HD, PAID_JSON]] as const) {
      const abandoned = await holdBudget(HELD, route, headers);
      expect(await post('/mcp', MCP_HEADERS, bodyOf('mcp', OVER_LEFT)), route).toMatchObject({ status: 503 });
      abandoned.abandon();
      expect(await admitted(OVER_LEFT + 8 * MIB), route).toBe(true);
    }
  });
});
