import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import pg from 'pg';
import { Wallet } from 'ethers';
import { Client as ModernClient, StreamableHTTPClientTransport as ModernHttpTransport } from '@modelcontextprotocol/client';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { decodePaymentRequiredHeader, encodePaymentSignatureHeader } from '@x402/core/http';
import type { PaymentPayload } from '@x402/core/types';
import { startAlibabaEmulator, type AlibabaEmulator } from './emulator/index.js';
import { startFacilitator, type LoopbackFacilitator } from './facilitator/index.js';
import { emulatorEnvironment, startTestServer, type TestServer } from './support/server.js';
import { createPayer, type Payer } from './support/payments.js';
import { discOnWhite } from './support/images.js';
import { ADMIN_TOKEN, jsonRequest, mintToken, type Answer } from './support/rest.js';
import { call2026 } from './support/mcp-2026.js';
import { hashToken } from '../src/payments/tokens.js';

const PAY_TO = new Wallet(Wallet.createRandom().privateKey).address;
const SERVICE = 'product-background-removal';
const HD = 'hd-general-segmentation';
const CLI = path.resolve('dist/cli.js');
const BROKEN = `data:image/png;base64,${Buffer.from('this is not a picture at all, just some text').toString('base64')}`;

let emulator: AlibabaEmulator;
let facilitator: LoopbackFacilitator;
let payer: Payer;
let imageUrl: string;

/** Payments on, against the emulator and the loopback facilitator, on the SQLite file the test server makes (or `extra`'s). */
const environment = (extra: Record<string, string> = {}) => ({
  ...emulatorEnvironment(emulator),
  PAYMENTS: 'required',
  X402_PAY_TO: PAY_TO,
  X402_FACILITATOR_URL: facilitator.url,
  ADMIN_TOKEN,
  ...extra,
});

beforeAll(async () => {
  emulator = await startAlibabaEmulator({ jobTimings: { queuingMs: 100, processingMs: 400 } });
  facilitator = await startFacilitator();
  imageUrl = emulator.hostImage(await discOnWhite());
  payer = createPayer();
  facilitator.fund(payer.address, 100_000_000n);
});

afterAll(async () => {
  await facilitator?.close();
  await emulator?.close();
});

const call = (server: TestServer, id: string, body: unknown, headers: Record<string, string> = {}): Promise<Answer> => jsonRequest(server.url, 'POST', `/api/tools/${id}`, body, headers);
const tokenState = async (server: TestServer, token: string) => (await jsonRequest(server.url, 'GET', `/api/payments/${token}`)).body;
const hdJobs = () => emulator.calls.filter((entry) => entry.action === 'SegmentHDCommonImage').length;

async function x402Header(server: TestServer, id = SERVICE, body: unknown = { ImageURL: imageUrl }, who: Payer = payer): Promise<string> {
  const unpaid = await call(server, id, body);
  return encodePaymentSignatureHeader(await who.pay(decodePaymentRequiredHeader(unpaid.headers.get('payment-required')!)));
}

/** The faults below are injected in the real store, for this test's payer only, as a lost connection would hit them. */
interface StoreFaults {
  failJobClose(payerKey: string): Promise<void>;
  failReceiptRecord(): Promise<void>;
  charges(tokenHash: string): Promise<number>;
  clear(): Promise<void>;
}

function sqliteFaults(file: string): StoreFaults {
  const db = new Database(file);
  return {
    async failJobClose(payerKey) {
      db.exec(`CREATE TRIGGER fail_job_close BEFORE UPDATE OF state ON async_jobs WHEN NEW.state = 'committed' AND NEW.payer = '${payerKey}' BEGIN SELECT RAISE(ABORT, 'injected: the job close fails'); END`);
    },
    async failReceiptRecord() {
      db.exec(`CREATE TRIGGER fail_receipt BEFORE UPDATE OF answer ON idempotency_records WHEN NEW.answer LIKE '%"receipt"%' BEGIN SELECT RAISE(ABORT, 'injected: the receipt write fails'); END`);
    },
    async charges(tokenHash) {
      return (db.prepare('SELECT COUNT(*) AS n FROM charges WHERE token_hash = ?').get(tokenHash) as { n: number }).n;
    },
    async clear() {
      db.exec('DROP TRIGGER IF EXISTS fail_job_close; DROP TRIGGER IF EXISTS fail_receipt');
      db.close();
    },
  };
}

function postgresFaults(url: string): StoreFaults {
  const pool = new pg.Pool({ connectionString: url, max: 1 });
  const suffix = randomUUID().replaceAll('-', '').slice(0, 12);
  return {
    async failJobClose(payerKey) {
      await pool.query(`CREATE FUNCTION fail_job_close_${suffix}() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'injected: the job close fails'; END $$ LANGUAGE plpgsql`);
      await pool.query(`CREATE TRIGGER fail_job_close_${suffix} BEFORE UPDATE ON async_jobs FOR EACH ROW WHEN (NEW.state = 'committed' AND NEW.payer = '${payerKey}') EXECUTE FUNCTION fail_job_close_${suffix}()`);
    },
    async failReceiptRecord() {
      throw new Error('not used on PostgreSQL');
    },
    async charges(tokenHash) {
      return Number((await pool.query('SELECT COUNT(*) AS n FROM charges WHERE token_hash = $1', [tokenHash])).rows[0].n);
    },
    async clear() {
      await pool.query(`DROP TRIGGER IF EXISTS fail_job_close_${suffix} ON async_jobs`);
      await pool.query(`DROP FUNCTION IF EXISTS fail_job_close_${suffix}()`);
      await pool.end();
    },
  };
}

const stores: Array<[string, () => Promise<{ server: TestServer; faults: StoreFaults }>]> = [
  ['SQLite', async () => {
    const server = await startTestServer(environment(), { jobPollingMs: 50 });
    return { server, faults: sqliteFaults(server.context.config.databaseUrl) };
  }],
];
if (process.env.TEST_DATABASE_URL) {
  stores.push(['PostgreSQL', async () => ({ server: await startTestServer(environment({ DATABASE_URL: process.env.TEST_DATABASE_URL! }), { jobPollingMs: 50 }), faults: postgresFaults(process.env.TEST_DATABASE_URL!) })]);
}

describe.each(stores)('a write after the commit fails (%s)', (_name, open) => {
  let server: TestServer;
  let faults: StoreFaults;
  beforeAll(async () => ({ server, faults } = await open()));
  afterAll(async () => {
    await faults?.clear();
    await server?.close();
  });

  it("still hands the caller its result, charges once, and replays it to a retry of the same key (the job row's close fails)", async () => {
    const token = await mintToken(server.url, HD, 2);
    await faults.failJobClose(`token:${hashToken(token)}`);
    const headers = { 'X-Payment-Token': token, 'Idempotency-Key': randomUUID() };
    const first = await call(server, HD, { ImageUrl: imageUrl }, headers);
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    expect(first.body).toMatchObject({ payment: 'committed', data: { ImageUrl: expect.stringMatching(/^http/) } });
    expect(await faults.charges(hashToken(token))).toBe(1);
    const jobs = hdJobs();
    const retry = await call(server, HD, { ImageUrl: imageUrl }, headers);
    expect(retry.status).toBe(200);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    expect(retry.body.data).toEqual(first.body.data);
    expect(hdJobs()).toBe(jobs);
    expect(await faults.charges(hashToken(token))).toBe(1);
    expect(await tokenState(server, token)).toMatchObject({ callsUsed: 1, callsRemaining: 1, callsInProgress: 0 });
  });
});

describe('a write after the commit fails (SQLite, x402)', () => {
  let server: TestServer;
  let faults: StoreFaults;
  beforeAll(async () => {
    server = await startTestServer(environment(), { jobPollingMs: 50 });
    faults = sqliteFaults(server.context.config.databaseUrl);
  });
  afterAll(async () => {
    await faults?.clear();
    await server?.close();
  });

  it('keeps the settled answer when recording its receipt fails: the retry replays it and settles nothing again', async () => {
    await mintToken(server.url, SERVICE, 1);
    await faults.failReceiptRecord();
    const headers = { 'PAYMENT-SIGNATURE': await x402Header(server), 'Idempotency-Key': randomUUID() };
    const settles = facilitator.calls.settle;
    const first = await call(server, SERVICE, { ImageURL: imageUrl }, headers);
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    expect(first.headers.get('payment-response')).toBeTruthy();
    expect(first.body.payment).toBe('committed');
    expect(facilitator.calls.settle).toBe(settles + 1);
    const retry = await call(server, SERVICE, { ImageURL: imageUrl }, headers);
    expect(retry.status).toBe(200);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    expect(facilitator.calls.settle).toBe(settles + 1);
  });
});

describe.skipIf(!process.env.TEST_DATABASE_URL)('a cancel that reaches a task after its commit (PostgreSQL)', () => {
  let server: TestServer;
  let pool: pg.Pool;
  const suffix = randomUUID().replaceAll('-', '').slice(0, 12);
  beforeAll(async () => {
    server = await startTestServer(environment({ DATABASE_URL: process.env.TEST_DATABASE_URL! }), { jobPollingMs: 50 });
    pool = new pg.Pool({ connectionString: process.env.TEST_DATABASE_URL, max: 1 });
  });
  afterAll(async () => {
    await pool?.query(`DROP TRIGGER IF EXISTS slow_task_write_${suffix} ON mcp_tasks`);
    await pool?.query(`DROP FUNCTION IF EXISTS slow_task_write_${suffix}()`);
    await pool?.query(`DROP SEQUENCE IF EXISTS slow_task_write_${suffix}`);
    await pool?.end();
    await server?.close();
  });

  it('leaves the task completed with the result it charged for, not cancelled as "nothing was charged"', async () => {
    const mcpUrl = `${server.url}/mcp`;
    const tasks = { 'io.modelcontextprotocol/tasks': {} };
    const token = await mintToken(server.url, HD, 1);
    const created = await call2026(mcpUrl, 'tools/call', { name: 'hd_general_segmentation', arguments: { ImageUrl: imageUrl } }, { extensions: tasks, headers: { 'x-payment-token': token } });
    const taskId = created.message.result?.taskId as string;
    expect(taskId).toBeTruthy();
    // The next write to mcp_tasks (the run storing its result, once the use is committed) waits 1.5 s before it
    // touches a row: a statement trigger, one-shot through a sequence, so the cancel below is not held up.
    await pool.query(`CREATE SEQUENCE slow_task_write_${suffix}`);
    await pool.query(`CREATE FUNCTION slow_task_write_${suffix}() RETURNS trigger AS $$ BEGIN IF nextval('slow_task_write_${suffix}') = 1 THEN PERFORM pg_sleep(1.5); END IF; RETURN NULL; END $$ LANGUAGE plpgsql`);
    await pool.query(`CREATE TRIGGER slow_task_write_${suffix} BEFORE UPDATE ON mcp_tasks FOR EACH STATEMENT EXECUTE FUNCTION slow_task_write_${suffix}()`);

    const deadline = Date.now() + 10_000;
    while ((await tokenState(server, token)).callsUsed < 1 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await tokenState(server, token)).toMatchObject({ callsUsed: 1 });
    const cancelled = await call2026(mcpUrl, 'tasks/cancel', { taskId }, { extensions: tasks, headers: { 'x-payment-token': token } });
    expect(cancelled.message.error).toBeUndefined();

    let task = (await call2026(mcpUrl, 'tasks/get', { taskId }, { extensions: tasks, headers: { 'x-payment-token': token } })).message.result;
    while (task?.status !== 'completed' && Date.now() < deadline + 5_000) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      task = (await call2026(mcpUrl, 'tasks/get', { taskId }, { extensions: tasks, headers: { 'x-payment-token': token } })).message.result;
    }
    expect(task).toMatchObject({ status: 'completed', result: { structuredContent: { payment: 'committed', data: { Status: 'PROCESS_SUCCESS' } } } });
    expect(task?.statusMessage).toMatch(/charged/);
    expect(task?.statusMessage).not.toMatch(/nothing was charged/);
    expect(await tokenState(server, token)).toMatchObject({ callsUsed: 1, callsInProgress: 0 });
  });
});

/** A server, and one whose asynchronous jobs outlive their 0.1 s deadline. */
function withServers(title: string, body: (servers: { server: () => TestServer; impatient: () => TestServer }) => void) {
  describe(title, () => {
    let server: TestServer;
    let impatient: TestServer;
    beforeAll(async () => {
      server = await startTestServer(environment(), { jobPollingMs: 50 });
      impatient = await startTestServer(environment({ IMAGESEG_JOB_DEADLINE_SECONDS: '0.1' }), { jobPollingMs: 30 });
    });
    afterAll(async () => {
      await server?.close();
      await impatient?.close();
    });
    body({ server: () => server, impatient: () => impatient });
  });
}

withServers('every answer says what became of the money', (servers) => {
  let server: TestServer;
  let impatient: TestServer;
  beforeAll(() => ({ server, impatient } = { server: servers.server(), impatient: servers.impatient() }));

  it('over REST: committed, none, released, and held with the job, until when, and how to collect it; a retry of the key replays the hold', async () => {
    const token = await mintToken(server.url, SERVICE, 3);
    const paid = await call(server, SERVICE, { ImageURL: imageUrl }, { 'X-Payment-Token': token });
    expect(paid.body.payment).toBe('committed');
    const invalid = await call(server, SERVICE, { ImageURL: imageUrl, Nope: 1 }, { 'X-Payment-Token': token });
    expect(invalid.body.error).toMatchObject({ code: 'INVALID_ARGUMENT', details: { payment: 'none', charged: false } });
    const refused = await call(server, SERVICE, { ImageURL: BROKEN }, { 'X-Payment-Token': token });
    expect(refused.body.error).toMatchObject({ code: 'IMAGE_INVALID', details: { payment: 'released', charged: false } });
    const unknownToken = await call(server, SERVICE, { ImageURL: imageUrl }, { 'X-Payment-Token': 'imgseg_nope' });
    expect(unknownToken.status).toBe(402);
    expect(unknownToken.body).toMatchObject({ x402Version: 2, error: 'payment_token_unknown', charged: false });
    expect(await tokenState(server, token)).toMatchObject({ callsUsed: 1, callsRemaining: 2 });

    const hdToken = await mintToken(impatient.url, HD, 2);
    const key = randomUUID();
    const timedOut = await call(impatient, HD, { ImageUrl: imageUrl }, { 'X-Payment-Token': hdToken, 'Idempotency-Key': key });
    expect(timedOut.status).toBe(504);
    const { details, message } = timedOut.body.error;
    expect(details).toMatchObject({ payment: 'held', charged: false, jobId: expect.any(String) });
    expect(new Date(details.heldUntil).toISOString()).toBe(details.heldUntil);
    expect(Date.parse(details.heldUntil)).toBeGreaterThan(Date.now());
    expect(message).toContain('async_job_result');
    expect(message).toContain(details.jobId);
    const jobs = hdJobs();
    const retried = await call(impatient, HD, { ImageUrl: imageUrl }, { 'X-Payment-Token': hdToken, 'Idempotency-Key': key });
    expect(retried.status).toBe(504);
    expect(retried.body.error.details).toMatchObject({ payment: 'held', jobId: details.jobId, heldUntil: details.heldUntil });
    expect(hdJobs()).toBe(jobs);
    expect(await tokenState(impatient, hdToken)).toMatchObject({ callsUsed: 0, callsInProgress: 1, callsRemaining: 1 });

    let collected: Answer | undefined;
    for (let attempt = 0; attempt < 60; attempt++) {
      collected = await call(impatient, 'async-job-result', { JobId: details.jobId }, { 'X-Payment-Token': hdToken });
      if (collected.body.data?.Status === 'PROCESS_SUCCESS') break;
      expect(collected.body.payment).toBe('held');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(collected!.body.payment).toBe('committed');
    expect(await tokenState(impatient, hdToken)).toMatchObject({ callsUsed: 1, callsInProgress: 0, callsRemaining: 1 });
  });

  it('over MCP (streamable HTTP): the same details in the error result', async () => {
    const token = await mintToken(impatient.url, HD, 1);
    const client = new Client({ name: 'money-states', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${impatient.url}/mcp`)));
    try {
      const held = (await client.callTool({ name: 'hd_general_segmentation', arguments: { ImageUrl: imageUrl, paymentToken: token } })) as CallToolResult;
      expect(held.isError).toBe(true);
      expect(held.structuredContent).toMatchObject({ error: { code: 'JOB_TIMEOUT', details: { payment: 'held', charged: false, jobId: expect.any(String), heldUntil: expect.any(String) } } });
      const released = (await client.callTool({ name: 'hd_general_segmentation', arguments: { ImageUrl: BROKEN, paymentToken: await mintToken(impatient.url, HD, 1) } })) as CallToolResult;
      expect(released.structuredContent).toMatchObject({ error: { code: 'IMAGE_INVALID', details: { payment: 'released', charged: false } } });
      const free = (await client.callTool({ name: 'async_job_result', arguments: { JobId: 'never-started' } })) as CallToolResult;
      expect(free.structuredContent).toMatchObject({ error: { code: 'NOT_FOUND', details: { payment: 'none', charged: false } } });
    } finally {
      await client.close();
    }
  });

  it('over MCP 2026-07-28 (the v2 client): held, released and none in the error result; the held job collected and charged once', async () => {
    const token = await mintToken(impatient.url, HD, 1);
    const client = new ModernClient({ name: 'money-states-2026', version: '1.0.0' }, { versionNegotiation: { mode: { pin: '2026-07-28' } } });
    await client.connect(new ModernHttpTransport(new URL(`${impatient.url}/mcp`)));
    try {
      expect(client.getNegotiatedProtocolVersion()).toBe('2026-07-28');
      const held = await client.callTool({ name: 'hd_general_segmentation', arguments: { ImageUrl: imageUrl, paymentToken: token } });
      expect(held.isError).toBe(true);
      expect(held.structuredContent).toMatchObject({ error: { code: 'JOB_TIMEOUT', details: { payment: 'held', charged: false, jobId: expect.any(String), heldUntil: expect.any(String) } } });
      const { jobId } = (held.structuredContent as { error: { details: { jobId: string } } }).error.details;
      expect(await tokenState(impatient, token)).toMatchObject({ callsUsed: 0, callsInProgress: 1 });
      let collected = held;
      for (let attempt = 0; attempt < 60; attempt++) {
        collected = await client.callTool({ name: 'async_job_result', arguments: { JobId: jobId, paymentToken: token } });
        if ((collected.structuredContent as { data?: { Status?: string } }).data?.Status === 'PROCESS_SUCCESS') break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(collected.structuredContent).toMatchObject({ payment: 'committed', data: { Status: 'PROCESS_SUCCESS' } });
      expect(await tokenState(impatient, token)).toMatchObject({ callsUsed: 1, callsInProgress: 0, callsRemaining: 0 });

      const released = await client.callTool({ name: 'hd_general_segmentation', arguments: { ImageUrl: BROKEN, paymentToken: await mintToken(impatient.url, HD, 1) } });
      expect(released.structuredContent).toMatchObject({ error: { code: 'IMAGE_INVALID', details: { payment: 'released', charged: false } } });
      const free = await client.callTool({ name: 'async_job_result', arguments: { JobId: 'never-started' } });
      expect(free.structuredContent).toMatchObject({ error: { code: 'NOT_FOUND', details: { payment: 'none', charged: false } } });
    } finally {
      await client.close();
    }
  });

  it('over MCP (stdio, the built CLI): held and none', async () => {
    const directory = mkdtempSync(path.join(tmpdir(), 'imageseg-money-stdio-'));
    const env = { PATH: process.env.PATH ?? '', ...environment({ IMAGESEG_JOB_DEADLINE_SECONDS: '0.1', DATABASE_URL: path.join(directory, 'imageseg.db'), LOG_LEVEL: 'silent' }) };
    const minted = await promisify(execFile)(process.execPath, [CLI, 'tokens', 'mint', '--service', HD], { env });
    const client = new Client({ name: 'money-states-stdio', version: '1.0.0' });
    await client.connect(new StdioClientTransport({ command: process.execPath, args: [CLI, 'stdio'], env, stderr: 'pipe' }));
    try {
      const held = (await client.callTool({ name: 'hd_general_segmentation', arguments: { ImageUrl: imageUrl, paymentToken: minted.stdout.trim() } })) as CallToolResult;
      expect(held.structuredContent).toMatchObject({ error: { code: 'JOB_TIMEOUT', details: { payment: 'held', jobId: expect.any(String) } } });
      const unknown = (await client.callTool({ name: 'async_job_result', arguments: { JobId: 'never-started' } })) as CallToolResult;
      expect(unknown.structuredContent).toMatchObject({ error: { code: 'NOT_FOUND', details: { payment: 'none', charged: false } } });
    } finally {
      await client.close();
      rmSync(directory, { recursive: true, force: true });
    }
  });

  it('in a batch: per item, held for a timed-out job; credited when an x402 batch gives a failed item back', async () => {
    const token = await mintToken(impatient.url, HD, 2);
    const held = await jsonRequest(impatient.url, 'POST', `/api/batch/${HD}`, { items: [{ ImageUrl: imageUrl }, { ImageUrl: BROKEN }] }, { 'X-Payment-Token': token });
    expect(held.status).toBe(200);
    const [timedOut, broken] = held.body.data.Results;
    expect(timedOut.error).toMatchObject({ code: 'JOB_TIMEOUT', details: { payment: 'held', jobId: expect.any(String) } });
    expect(broken.error).toMatchObject({ code: 'IMAGE_INVALID', details: { payment: 'released' } });

    const items = [{ ImageURL: imageUrl }, { ImageURL: BROKEN }];
    const unpaid = await jsonRequest(server.url, 'POST', `/api/batch/${SERVICE}`, { items });
    const payment = encodePaymentSignatureHeader(await payer.pay(decodePaymentRequiredHeader(unpaid.headers.get('payment-required')!)));
    const paid = await jsonRequest(server.url, 'POST', `/api/batch/${SERVICE}`, { items }, { 'PAYMENT-SIGNATURE': payment });
    expect(paid.status).toBe(200);
    expect(paid.body.payment).toBe('committed');
    expect(paid.body.data.Results[0]).toMatchObject({ ok: true, payment: 'committed' });
    expect(paid.body.data.Results[1].error).toMatchObject({ code: 'IMAGE_INVALID', details: { payment: 'credited', charged: false } });
    expect(paid.body.data.Credit).toMatchObject({ calls: 1, paymentToken: expect.stringMatching(/^imgseg_/) });
  });
});

withServers('x402 identity is verified before it opens anything', (servers) => {
  let server: TestServer;
  let impatient: TestServer;
  beforeAll(() => ({ server, impatient } = { server: servers.server(), impatient: servers.impatient() }));

  /** Signed by the forger's own key, but naming the victim as payer. */
  async function forgedFor(target: TestServer, victim: Payer, id: string, body: unknown): Promise<string> {
    const forger = createPayer();
    const unpaid = await call(target, id, body);
    const payload: PaymentPayload = await forger.pay(decodePaymentRequiredHeader(unpaid.headers.get('payment-required')!));
    (payload.payload as { authorization: { from: string } }).authorization.from = victim.address;
    return encodePaymentSignatureHeader(payload);
  }

  it("never hands the victim's paid answer to a forged payload carrying the victim's address and idempotency key", async () => {
    const victim = createPayer();
    facilitator.fund(victim.address, 10_000_000n);
    const key = randomUUID();
    const paid = await call(server, SERVICE, { ImageURL: imageUrl }, { 'PAYMENT-SIGNATURE': await x402Header(server, SERVICE, { ImageURL: imageUrl }, victim), 'Idempotency-Key': key });
    expect(paid.status).toBe(200);
    const forged = await call(server, SERVICE, { ImageURL: imageUrl }, { 'PAYMENT-SIGNATURE': await forgedFor(server, victim, SERVICE, { ImageURL: imageUrl }), 'Idempotency-Key': key });
    expect(forged.status).toBe(402);
    expect(forged.body).toMatchObject({ error: 'invalid_exact_evm_signature', charged: false });
    expect(forged.headers.get('idempotent-replayed')).toBeNull();
    expect(JSON.stringify(forged.body)).not.toContain(paid.body.data.ImageURL);
    // The victim itself, with a new payload and the same key, gets its answer again.
    const again = await call(server, SERVICE, { ImageURL: imageUrl }, { 'PAYMENT-SIGNATURE': await x402Header(server, SERVICE, { ImageURL: imageUrl }, victim), 'Idempotency-Key': key });
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body.data.ImageURL).toBe(paid.body.data.ImageURL);
  });

  it("never resumes the victim's held job for a forged payload; the victim's fresh payload collects it", async () => {
    const victim = createPayer();
    facilitator.fund(victim.address, 10_000_000n);
    const timedOut = await call(impatient, HD, { ImageUrl: imageUrl }, { 'PAYMENT-SIGNATURE': await x402Header(impatient, HD, { ImageUrl: imageUrl }, victim) });
    expect(timedOut.body.error.details).toMatchObject({ payment: 'held' });
    const { jobId } = timedOut.body.error.details;
    const forged = await call(impatient, 'async-job-result', { JobId: jobId }, { 'PAYMENT-SIGNATURE': await forgedFor(impatient, victim, HD, { ImageUrl: imageUrl }) });
    expect(forged.status).toBe(401);
    expect(forged.body.error).toMatchObject({ code: 'UNAUTHORIZED', details: { reason: 'invalid_exact_evm_signature', payment: 'none' } });
    let collected: Answer | undefined;
    for (let attempt = 0; attempt < 60; attempt++) {
      collected = await call(impatient, 'async-job-result', { JobId: jobId }, { 'PAYMENT-SIGNATURE': await x402Header(impatient, HD, { ImageUrl: imageUrl }, victim) });
      if (collected.status !== 200 || collected.body.data.Status === 'PROCESS_SUCCESS') break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(collected!.status).toBe(200);
    expect(collected!.body).toMatchObject({ payment: 'committed', data: { Status: 'PROCESS_SUCCESS' } });
  });
});
