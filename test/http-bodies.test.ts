import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { spawnHttpServer, type ServerProcess } from './support/processes.js';
import { gzipSync } from 'node:zlib';
import { capabilities } from '../tools/index.js';
import { largestRequestBytes, requestBytesFor } from '../src/catalog/request-size.js';
import { productBackgroundRemoval } from '../tools/product-background-removal.js';

const CLI = path.resolve('dist/cli.js');
const MIB = 1024 * 1024;
const HD = '/api/tools/hd-general-segmentation';
const SMALL_IMAGES = '/api/tools/product-background-removal';
const MCP_HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };

let server: ServerProcess;
let base: string;
let dataDirectory: string;

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  json: () => Record<string, any>;
}

/**
 * POSTs with node's http client. `streamBytes` sends a JSON body `{"ImageUrl":"data:...AAAA"}` of that size in 1 MiB
 * writes, with Content-Length or chunked; the server may answer and close before it has all of it.
 */
function post(route: string, options: { headers?: Record<string, string>; body?: string | Buffer; streamBytes?: number; chunked?: boolean }): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const prefix = '{"ImageUrl":"data:image/jpeg;base64,';
    const suffix = '"}';
    const total = options.streamBytes ?? Buffer.byteLength(options.body ?? '');
    const headers: Record<string, string | number> = { 'content-type': 'application/json', ...options.headers };
    if (!options.chunked) headers['content-length'] = total;
    const request = http.request(`${base}${route}`, { method: 'POST', headers });
    let answered = false;
    request.on('response', (response) => {
      answered = true;
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: response.statusCode ?? 0, headers: response.headers, text, json: () => JSON.parse(text) as Record<string, any> });
      });
      response.on('error', reject);
    });
    request.on('error', (error) => {
      if (!answered) reject(error);
    });
    if (options.streamBytes === undefined) return request.end(options.body);
    const filler = Buffer.alloc(MIB, 'A');
    let left = total - prefix.length - suffix.length;
    request.write(prefix);
    const pump = (): void => {
      while (left > 0 && !answered && !request.destroyed) {
        const piece = left >= MIB ? filler : filler.subarray(0, left);
        left -= piece.length;
        if (!request.write(piece)) return void request.once('drain', pump);
      }
      if (left === 0) request.end(suffix);
    };
    pump();
  });
}

/** Peak resident memory of the server process, from the kernel. */
function peakMemoryBytes(): number {
  const status = readFileSync(`/proc/${server.child.pid}/status`, 'utf8');
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)![1]) * 1024;
}

beforeAll(async () => {
  if (!existsSync(CLI)) throw new Error('dist/cli.js is missing: run `npm run build` (npm test does)');
  dataDirectory = mkdtempSync(path.join(tmpdir(), 'imageseg-bodies-'));
  server = await spawnHttpServer({ HOME: dataDirectory, DATABASE_URL: path.join(dataDirectory, 'imageseg.db') });
  base = server.url;
});

afterAll(async () => {
  await server?.stop();
  rmSync(dataDirectory, { recursive: true, force: true });
});

describe('request bodies: limited per route, refused before parsing', () => {
  it('answers an unpaid 50 MB call with the same 402 as a small one, without reading it into memory', async () => {
    const small = await post(HD, { body: JSON.stringify({ ImageUrl: 'https://example.com/a.jpg' }) });
    expect(small.status).toBe(402);
    const before = peakMemoryBytes();
    const declared = await post(HD, { streamBytes: 50_000_000 });
    const chunked = await post(HD, { streamBytes: 50_000_000, chunked: true });
    const grown = peakMemoryBytes() - before;
    for (const big of [declared, chunked]) {
      expect(big.status).toBe(402);
      expect(big.json()).toEqual(small.json());
      expect(big.headers['payment-required']).toBe(small.headers['payment-required']);
    }
    console.info(`peak RSS grew by ${(grown / MIB).toFixed(1)} MiB`);
    expect(grown, `peak RSS grew by ${(grown / MIB).toFixed(1)} MiB`).toBeLessThan(12 * MIB);
  }, 60_000);

  it('reads a large paid body within the route limit', async () => {
    const answer = await post(HD, { streamBytes: 20_000_000, headers: { 'x-payment-token': 'imgseg_not-a-real-token' } });
    expect(answer.status).toBe(402);
    expect(answer.json().error).toBe('payment_token_unknown');
  }, 30_000);

  it('refuses a body over the route limit with 413 IMAGE_TOO_LARGE: at once from Content-Length, and chunked once it passes the limit', async () => {
    const headers = { 'x-payment-token': 'imgseg_not-a-real-token' };
    const before = peakMemoryBytes();
    for (const chunked of [false, true]) {
      const answer = await post(SMALL_IMAGES, { streamBytes: 50_000_000, chunked, headers });
      expect(answer.status, `chunked: ${chunked}`).toBe(413);
      // One 3 MB image as base64 plus margin.
      expect(answer.json().error).toMatchObject({ code: 'IMAGE_TOO_LARGE', details: { limitBytes: requestBytesFor(productBackgroundRemoval) } });
      expect(answer.json().error.details.limitBytes).toBeLessThan(16 * MIB);
    }
    expect(peakMemoryBytes() - before).toBeLessThan(24 * MIB);
    const payments = await post('/api/payments', { streamBytes: 2 * MIB });
    expect(payments.status).toBe(413);
  }, 60_000);

  it('refuses an oversize /mcp body with 413 in JSON-RPC shape', async () => {
    const answer = await post('/mcp', { streamBytes: largestRequestBytes(capabilities) + MIB, headers: MCP_HEADERS });
    expect(answer.status).toBe(413);
    expect(answer.json()).toMatchObject({ jsonrpc: '2.0', id: null, error: { code: -32600, message: expect.stringMatching(/bytes|MB/) } });
  }, 60_000);
});

describe('client mistakes are 4xx', () => {
  const image = JSON.stringify({ ImageURL: 'https://example.com/a.jpg' });

  it('answers an unsupported charset or Content-Encoding with 415 UNSUPPORTED_MEDIA_TYPE', async () => {
    const cases: Array<Record<string, string>> = [
      { 'content-type': 'application/json; charset=latin1' },
      { 'content-encoding': 'compress' },
      { 'content-encoding': 'gzip, gzip' },
    ];
    for (const headers of cases) {
      const answer = await post(SMALL_IMAGES, { body: image, headers });
      expect(answer.status, JSON.stringify(headers)).toBe(415);
      expect(answer.json().error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
      const mcp = await post('/mcp', { body: '{"jsonrpc":"2.0","id":1,"method":"tools/list"}', headers: { ...MCP_HEADERS, ...headers } });
      expect(mcp.status, JSON.stringify(headers)).toBe(415);
      expect(mcp.json()).toMatchObject({ jsonrpc: '2.0', id: null, error: { code: expect.any(Number) } });
    }
  });

  it('still reads gzip bodies and UTF-8 charsets', async () => {
    const gzipped = await post(SMALL_IMAGES, { body: gzipSync(JSON.stringify({ ImageURL: 5 })), headers: { 'content-encoding': 'gzip', 'content-type': 'application/json; charset=UTF-8' } });
    expect(gzipped.status).toBe(400);
    expect(gzipped.json().error).toMatchObject({ code: 'INVALID_ARGUMENT', details: { fields: ['ImageURL'] } });
    // The limit holds for the decoded body: 30 MB that gzip to a few kilobytes are cut off.
    const bomb = gzipSync(`{"ImageURL":"data:image/png;base64,${'A'.repeat(30_000_000)}"}`);
    expect(bomb.length).toBeLessThan(MIB);
    const refused = await post(SMALL_IMAGES, { body: bomb, headers: { 'content-encoding': 'gzip', 'x-payment-token': 'imgseg_not-a-real-token' } });
    expect(refused.status).toBe(413);
    expect(refused.json().error.code).toBe('IMAGE_TOO_LARGE');
  });

  it('answers invalid JSON on /mcp with -32700 and JSON that is not JSON-RPC with -32600, both HTTP 400', async () => {
    const parse = await post('/mcp', { body: '{"jsonrpc":"2.0","id":1,', headers: MCP_HEADERS });
    expect(parse.status).toBe(400);
    expect(parse.json()).toMatchObject({ jsonrpc: '2.0', id: null, error: { code: -32700 } });
    const invalid = await post('/mcp', { body: '{"hello":"world"}', headers: MCP_HEADERS });
    expect(invalid.status).toBe(400);
    expect(invalid.json()).toMatchObject({ jsonrpc: '2.0', id: null, error: { code: -32600 } });
    const rest = await post(SMALL_IMAGES, { body: '{"ImageURL":', headers: {} });
    expect(rest.status).toBe(400);
    expect(rest.json().error.code).toBe('INVALID_ARGUMENT');
  });
});
