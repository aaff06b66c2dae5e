import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import http from 'node:http';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Wallet } from 'ethers';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CallToolResultSchema } from '@modelcontextprotocol/sdk/types.js';
import { decodePaymentRequiredHeader, encodePaymentSignatureHeader } from '@x402/core/http';
import { appendPaymentIdentifierToExtensions, generatePaymentId } from '@x402/extensions/payment-identifier';
import { startAlibabaEmulator, type AlibabaEmulator } from './emulator/index.js';
import { startFacilitator, type LoopbackFacilitator } from './facilitator/index.js';
import { startTestServer, type TestServer } from './support/server.js';
import { createPayer, type Payer } from './support/payments.js';
import { discOnWhite } from './support/images.js';
import { jsonRequest, mintToken, paidEnvironment as sharedPaidEnvironment, type Answer } from './support/rest.js';

const PAY_TO = new Wallet(Wallet.createRandom().privateKey).address;
const SERVICE = 'product-background-removal';
const HD = 'hd-general-segmentation';

let emulator: AlibabaEmulator;
let facilitator: LoopbackFacilitator;
let server: TestServer;
let payer: Payer;
let imageUrl: string;

const paidEnvironment = (extra: Record<string, string> = {}) => sharedPaidEnvironment(emulator, facilitator, PAY_TO, extra);

beforeAll(async () => {
  emulator = await startAlibabaEmulator({ jobTimings: { queuingMs: 300, processingMs: 1500 } });
  facilitator = await startFacilitator();
  server = await startTestServer(paidEnvironment(), { jobPollingMs: 50 });
  imageUrl = emulator.hostImage(await discOnWhite());
  payer = createPayer();
  facilitator.fund(payer.address, 100_000_000n);
});

afterAll(async () => {
  await server?.close();
  await facilitator?.close();
  await emulator?.close();
});

beforeEach(() => emulator.clearFaults());

const request = (method: string, route: string, body?: unknown, headers: Record<string, string> = {}, base = server.url): Promise<Answer> => jsonRequest(base, method, route, body, headers);
const callTool = (headers: Record<string, string>, body: unknown = { ImageURL: imageUrl }, id = SERVICE, base = server.url) => request('POST', `/api/tools/${id}`, body, headers, base);
const tokenState = async (token: string, base = server.url) => (await request('GET', `/api/payments/${token}`, undefined, {}, base)).body;
const providerCalls = (action = 'SegmentCommodity') => emulator.calls.filter((entry) => entry.action === action).length;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const mint = (serviceId = SERVICE, calls = 1, base = server.url) => mintToken(base, serviceId, calls);

/** A REST call whose client hangs up after `ms`, the way a dropped connection or a client timeout does. */
function callAndHangUp(headers: Record<string, string>, body: unknown, id: string, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const payload = JSON.stringify(body);
    const outgoing = http.request(`${server.url}/api/tools/${id}`, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload), ...headers } });
    outgoing.on('error', () => resolve());
    outgoing.end(payload);
    setTimeout(() => {
      outgoing.destroy();
      resolve();
    }, ms);
  });
}

/** Waits until the server has let go of the call (the token's hold is gone). */
async function settled(token: string) {
  for (let attempt = 0; attempt < 50 && (await tokenState(token)).callsInProgress !== 0; attempt++) await sleep(50);
}

async function paymentFor(id = SERVICE, identifier?: string) {
  const unpaid = await callTool({}, id === HD ? { ImageUrl: imageUrl } : { ImageURL: imageUrl }, id);
  const required = decodePaymentRequiredHeader(unpaid.headers.get('payment-required')!);
  if (identifier) appendPaymentIdentifierToExtensions(required.extensions ??= {}, identifier);
  return encodePaymentSignatureHeader(await payer.pay(required));
}

describe('a call whose client went away is never charged', () => {
  it('stops polling the job and gives the token use back when a REST client drops mid-job', async () => {
    const token = await mint(HD);
    await callAndHangUp({ 'X-Payment-Token': token }, { ImageUrl: imageUrl }, HD, 600);
    const droppedAt = Date.now();
    await settled(token);
    await sleep(800);
    expect(emulator.calls.filter((entry) => entry.action === 'GetAsyncJobResult' && entry.at > droppedAt + 100)).toEqual([]);
    expect(await tokenState(token)).toMatchObject({ callsRemaining: 1, callsUsed: 0, callsInProgress: 0 });
  });

  it('does not charge a token when the client drops while the provider is still answering', async () => {
    const token = await mint();
    emulator.delayNext('SegmentCommodity', 800);
    const before = providerCalls();
    await callAndHangUp({ 'X-Payment-Token': token }, { ImageURL: imageUrl }, SERVICE, 300);
    await sleep(900);
    await settled(token);
    expect(providerCalls()).toBe(before + 1);
    expect(await tokenState(token)).toMatchObject({ callsRemaining: 1, callsUsed: 0, callsInProgress: 0 });
    expect((await callTool({ 'X-Payment-Token': token })).status).toBe(200);
  });

  it('settles no x402 payment when the client drops mid-job', async () => {
    const header = await paymentFor(HD);
    const settles = facilitator.calls.settle;
    await callAndHangUp({ 'PAYMENT-SIGNATURE': header }, { ImageUrl: imageUrl }, HD, 600);
    await sleep(2500);
    expect(facilitator.calls.settle).toBe(settles);
  });

  it('releases the calls in flight when the server shuts down', async () => {
    const token = await mint(HD);
    const call = callTool({ 'X-Payment-Token': token }, { ImageUrl: imageUrl }, HD);
    await sleep(500);
    server.context.shutdown.abort();
    const answer = await call;
    expect(answer.body.error).toMatchObject({ retryable: true, details: { charged: false, payment: 'released', cancelled: true } });
    expect(await tokenState(token)).toMatchObject({ callsRemaining: 1, callsUsed: 0, callsInProgress: 0 });
    server.context.shutdown = new AbortController();
    await server.close();
    server = await startTestServer(paidEnvironment(), { jobPollingMs: 50 });
  });
});

describe('a server that stops', () => {
  it('on SIGTERM lets calls finish for IMAGESEG_SHUTDOWN_SECONDS, then stops the rest uncharged and exits', async () => {
    const directory = mkdtempSync(path.join(tmpdir(), 'imageseg-sigterm-'));
    const environment = { ...process.env, ...paidEnvironment({ DATABASE_URL: path.join(directory, 'ledger.db'), IMAGESEG_SHUTDOWN_SECONDS: '0.3', LOG_LEVEL: 'info' }) };
    const child = spawn(process.execPath, [path.resolve('dist/cli.js'), 'http', '--port', '0'], { env: environment });
    try {
      let log = '';
      const url = await new Promise<string>((resolve, reject) => {
        child.stderr.on('data', (chunk: Buffer) => {
          log += chunk.toString();
          const found = /"url":"(http:\/\/[^"]+)"/.exec(log);
          if (found) resolve(found[1]);
        });
        child.once('exit', () => reject(new Error(`server exited: ${log}`)));
      });
      const token = await mint(HD, 1, url);
      const call = request('POST', `/api/tools/${HD}`, { ImageUrl: imageUrl }, { 'X-Payment-Token': token }, url);
      await sleep(600);
      child.kill('SIGTERM');
      const answer = await call;
      expect(answer.body.error).toMatchObject({ details: { charged: false, payment: 'released', cancelled: true } });
      const [code] = await once(child, 'exit');
      expect(code).toBe(0);
      const shown = spawn(process.execPath, [path.resolve('dist/cli.js'), 'tokens', 'show', token], { env: environment });
      let printed = '';
      shown.stdout.on('data', (chunk: Buffer) => (printed += chunk.toString()));
      await once(shown, 'exit');
      expect(printed).toMatch(/callsUsed["\s:]+0/);
      expect(printed).toMatch(/callsInProgress["\s:]+0/);
    } finally {
      child.kill('SIGKILL');
      rmSync(directory, { recursive: true, force: true });
    }
  });

  it('stops fetching a slow input image as soon as the caller goes away', async () => {
    let closedAt = 0;
    const slow = http.createServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'image/png' });
      response.write(Buffer.alloc(10));
      response.on('close', () => (closedAt = Date.now()));
    });
    slow.listen(0, '127.0.0.1');
    await once(slow, 'listening');
    const { port } = slow.address() as { port: number };
    try {
      const token = await mint();
      await callAndHangUp({ 'X-Payment-Token': token }, { ImageURL: `http://127.0.0.1:${port}/never-ends.png` }, SERVICE, 300);
      const droppedAt = Date.now();
      await settled(token);
      await sleep(300);
      expect(closedAt).toBeGreaterThan(0);
      expect(closedAt - droppedAt).toBeLessThan(500);
      expect(await tokenState(token)).toMatchObject({ callsRemaining: 1, callsUsed: 0 });
    } finally {
      slow.closeAllConnections();
      slow.close();
    }
  });
});

describe('one idempotency key runs and pays once', () => {
  it('answers a sequential retry with the first answer: same requestId, one provider call, one use', async () => {
    const token = await mint(SERVICE, 3);
    const before = providerCalls();
    const headers = { 'X-Payment-Token': token, 'Idempotency-Key': 'retry-after-network-drop-1' };
    const first = await callTool(headers);
    const retry = await callTool(headers);
    expect(first.status).toBe(200);
    expect(retry.status).toBe(200);
    expect(retry.body.requestId).toBe(first.body.requestId);
    expect(retry.body).toEqual(first.body);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    expect(providerCalls()).toBe(before + 1);
    expect(await tokenState(token)).toMatchObject({ callsUsed: 1, callsRemaining: 2 });
  });

  it('runs concurrent retries of one key once', async () => {
    const token = await mint(SERVICE, 10);
    const before = providerCalls();
    emulator.delayNext('SegmentCommodity', 400);
    const headers = { 'X-Payment-Token': token, 'Idempotency-Key': 'concurrent-retries' };
    const answers = await Promise.all(Array.from({ length: 6 }, () => callTool(headers)));
    expect(answers.map((answer) => answer.status)).toEqual(Array(6).fill(200));
    expect(new Set(answers.map((answer) => answer.body.requestId)).size).toBe(1);
    expect(providerCalls()).toBe(before + 1);
    expect(await tokenState(token)).toMatchObject({ callsUsed: 1, callsInProgress: 0 });
  });

  it('refuses the same key with other arguments (422 IDEMPOTENCY_KEY_REUSED), charging nothing', async () => {
    const token = await mint(SERVICE, 3);
    const headers = { 'X-Payment-Token': token, 'Idempotency-Key': 'one-request-one-key' };
    expect((await callTool(headers)).status).toBe(200);
    const reused = await callTool(headers, { ImageURL: imageUrl, ReturnForm: 'mask' });
    expect(reused.status).toBe(422);
    expect(reused.body.error).toMatchObject({ code: 'IDEMPOTENCY_KEY_REUSED', details: { charged: false, payment: 'none' } });
    expect(await tokenState(token)).toMatchObject({ callsUsed: 1 });
  });

  it('keeps keys apart per payer: another token with the same key runs and pays for its own call', async () => {
    const [one, other] = [await mint(), await mint()];
    const first = await callTool({ 'X-Payment-Token': one, 'Idempotency-Key': 'shared-key' });
    const second = await callTool({ 'X-Payment-Token': other, 'Idempotency-Key': 'shared-key' });
    expect(second.body.requestId).not.toBe(first.body.requestId);
    expect(await tokenState(other)).toMatchObject({ callsUsed: 1 });
  });

  it('lets a failed call run again under its key, since nothing was charged', async () => {
    const token = await mint();
    const headers = { 'X-Payment-Token': token, 'Idempotency-Key': 'first-try-fails' };
    emulator.injectFault({ action: 'SegmentCommodity', code: 'InvalidImage.Content', httpStatus: 400 });
    expect((await callTool(headers)).status).toBe(422);
    expect((await callTool(headers)).status).toBe(200);
    expect(await tokenState(token)).toMatchObject({ callsUsed: 1 });
  });

  it('holds across two server processes on one ledger database', async () => {
    const directory = mkdtempSync(path.join(tmpdir(), 'imageseg-shared-'));
    const shared = { DATABASE_URL: process.env.TEST_DATABASE_URL ?? path.join(directory, 'ledger.db') };
    const [one, two] = [await startTestServer(paidEnvironment(shared)), await startTestServer(paidEnvironment(shared))];
    try {
      const token = await mint(SERVICE, 2, one.url);
      const before = providerCalls();
      const headers = { 'X-Payment-Token': token, 'Idempotency-Key': 'across-replicas' };
      const first = await callTool(headers, undefined, SERVICE, one.url);
      const retry = await callTool(headers, undefined, SERVICE, two.url);
      expect(retry.body.requestId).toBe(first.body.requestId);
      expect(providerCalls()).toBe(before + 1);
      expect(await tokenState(token, two.url)).toMatchObject({ callsUsed: 1 });
    } finally {
      await one.close();
      await two.close();
      rmSync(directory, { recursive: true, force: true });
    }
  });

  it('takes MCP _meta["idempotency-key"] the same way', async () => {
    const token = await mint(SERVICE, 2);
    const client = new Client({ name: 'idempotent-agent', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${server.url}/mcp`)));
    try {
      const before = providerCalls();
      const params = { name: 'product_background_removal', arguments: { ImageURL: imageUrl, paymentToken: token }, _meta: { 'idempotency-key': 'mcp-retry' } };
      const first = await client.request({ method: 'tools/call', params }, CallToolResultSchema);
      const retry = await client.request({ method: 'tools/call', params }, CallToolResultSchema);
      expect(first.isError).toBeFalsy();
      expect((retry.structuredContent as { requestId: string }).requestId).toBe((first.structuredContent as { requestId: string }).requestId);
      expect(retry.content.filter((item) => item.type === 'image')).toHaveLength(first.content.filter((item) => item.type === 'image').length);
      expect(providerCalls()).toBe(before + 1);
      expect(await tokenState(token)).toMatchObject({ callsUsed: 1 });
    } finally {
      await client.close();
    }
  });

  it('honours x402 payment-identifier: a re-signed retry with the same payment id is answered once and settled once', async () => {
    const identifier = generatePaymentId();
    const settles = facilitator.calls.settle;
    const before = providerCalls();
    const first = await callTool({ 'PAYMENT-SIGNATURE': await paymentFor(SERVICE, identifier) });
    const retry = await callTool({ 'PAYMENT-SIGNATURE': await paymentFor(SERVICE, identifier) });
    expect(first.status).toBe(200);
    expect(retry.status).toBe(200);
    expect(retry.body.requestId).toBe(first.body.requestId);
    expect(providerCalls()).toBe(before + 1);
    expect(facilitator.calls.settle).toBe(settles + 1);
  });
});

describe('Retry-After', () => {
  it('comes with every 429: persistent upstream throttling', async () => {
    const token = await mint();
    emulator.injectFault({ action: 'SegmentCommodity', code: 'Throttling.User', httpStatus: 400, times: 10 });
    const answer = await callTool({ 'X-Payment-Token': token });
    expect(answer.status).toBe(429);
    expect(answer.body.error).toMatchObject({ code: 'UPSTREAM_THROTTLED', retryable: true });
    expect(Number(answer.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(answer.body.error.details.retryAfterSeconds).toBe(Number(answer.headers.get('retry-after')));
    expect(await tokenState(token)).toMatchObject({ callsRemaining: 1, callsUsed: 0 });
  });

  it('comes with every 503: a provider that is not configured', async () => {
    const unconfigured = await startTestServer({ ...paidEnvironment(), IMAGESEG_PROVIDER: 'alibaba', ALIBABA_CLOUD_ACCESS_KEY_ID: '', ALIBABA_CLOUD_ACCESS_KEY_SECRET: '' });
    try {
      const answer = await callTool({}, undefined, SERVICE, unconfigured.url);
      expect(answer.status).toBe(503);
      expect(Number(answer.headers.get('retry-after'))).toBeGreaterThan(0);
    } finally {
      await unconfigured.close();
    }
  });
});
