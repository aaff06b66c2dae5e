import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Wallet } from 'ethers';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { createTaskSessionFromClient, type JsonRpcResponse } from '@modelcontextprotocol/ext-tasks/client';
import type { JsonValue } from '@modelcontextprotocol/ext-tasks/core';
import type { PaymentRequired } from '@x402/core/types';
import { startAlibabaEmulator, type AlibabaEmulator } from './emulator/index.js';
import { startFacilitator, type LoopbackFacilitator } from './facilitator/index.js';
import { emulatorEnvironment, startTestServer, type TestServer } from './support/server.js';
import { createPayer, type Payer } from './support/payments.js';
import { discOnWhite } from './support/images.js';
import { call2026, PROTOCOL_2026 } from './support/mcp-2026.js';

// MCP 2026-07-28 on the /mcp endpoint that keeps serving 2025-11-25 (mcp-http.test.ts, tasks.test.ts,
// payments-mcp.test.ts): the v2 SDK client, the ext-tasks client and the raw wire.
const SYNC_TOOL = 'product_background_removal';
const SYNC_SERVICE = 'product-background-removal';
const ASYNC_TOOL = 'hd_general_segmentation';
const ASYNC_SERVICE = 'hd-general-segmentation';
const X402 = 'org.x402/payment';
const TASKS = 'io.modelcontextprotocol/tasks';

let emulator: AlibabaEmulator;
let facilitator: LoopbackFacilitator;
let server: TestServer;
let payer: Payer;
let imageUrl: string;
let dataDirectory: string;
let mcpUrl: string;
const clients: Client[] = [];

beforeAll(async () => {
  emulator = await startAlibabaEmulator({ jobTimings: { queuingMs: 200, processingMs: 1200 } });
  facilitator = await startFacilitator();
  dataDirectory = mkdtempSync(path.join(tmpdir(), 'imageseg-mcp2026-'));
  server = await startTestServer(
    {
      ...emulatorEnvironment(emulator),
      PAYMENTS: 'required',
      X402_PAY_TO: new Wallet(Wallet.createRandom().privateKey).address,
      X402_FACILITATOR_URL: facilitator.url,
      DATABASE_URL: path.join(dataDirectory, 'imageseg.db'),
    },
    { jobPollingMs: 100 },
  );
  mcpUrl = `${server.url}/mcp`;
  payer = createPayer();
  facilitator.fund(payer.address, 10_000_000n);
  imageUrl = emulator.hostImage(await discOnWhite());
});

afterAll(async () => {
  await Promise.all(clients.map((client) => client.close().catch(() => undefined)));
  await server?.close();
  await facilitator?.close();
  await emulator?.close();
  rmSync(dataDirectory, { recursive: true, force: true });
});

const mint = async (serviceId: string) => (await server.context.payments.mintToken({ serviceId, calls: 1 })).paymentToken;
const usesOf = async (token: string) => (await server.context.payments.describeToken(token))!;
const providerCalls = () => emulator.calls.length;

async function modernClient(headers?: Record<string, string>): Promise<Client> {
  const client = new Client({ name: 'mcp-2026-test', version: '1.0.0' }, { versionNegotiation: { mode: { pin: PROTOCOL_2026 } } });
  await client.connect(new StreamableHTTPClientTransport(new URL(mcpUrl), headers ? { requestInit: { headers } } : undefined));
  clients.push(client);
  return client;
}

describe('MCP 2026-07-28 over streamable HTTP', () => {
  it('negotiates 2026-07-28 with the v2 client, without a session, and lists the tools with caching hints', async () => {
    const client = await modernClient();
    expect(client.getNegotiatedProtocolVersion()).toBe(PROTOCOL_2026);
    const { tools } = await client.listTools();
    expect(tools.map((tool) => tool.name)).toContain(SYNC_TOOL);
    expect(client.getServerCapabilities()?.extensions).toMatchObject({ [TASKS]: {}, [X402]: {} });

    const listed = await call2026(mcpUrl, 'tools/list');
    expect(listed.message.result).toMatchObject({ resultType: 'complete', cacheScope: 'public' });
    expect(listed.message.result?.ttlMs).toBeGreaterThan(0);
    // A 2025-11-25 client on the same endpoint still starts with initialize.
    const legacy = new Client({ name: 'mcp-2025-test', version: '1.0.0' });
    await legacy.connect(new StreamableHTTPClientTransport(new URL(mcpUrl)));
    clients.push(legacy);
    expect(legacy.getNegotiatedProtocolVersion()).toBe('2025-11-25');
    expect((await legacy.listTools()).tools.length).toBe(tools.length);
  });

  it('checks Mcp-Method and Mcp-Name against the body: 400 with the request id', async () => {
    const wrongMethod = await call2026(mcpUrl, 'tools/list', {}, { headers: { 'mcp-method': 'tools/call' } });
    expect(wrongMethod.status).toBe(400);
    expect(wrongMethod.message.id).toBeDefined();
    const wrongName = await call2026(mcpUrl, 'tools/call', { name: SYNC_TOOL, arguments: { ImageURL: imageUrl } }, { headers: { 'mcp-name': 'another_tool' } });
    expect(wrongName.status).toBe(400);
    expect(wrongName.message.error?.code).toBe(-32020);
  });

  it('answers a resource that does not exist with -32602', async () => {
    const read = await call2026(mcpUrl, 'resources/read', { uri: 'imageseg://local/results/nothing-here' });
    expect(read.message.error).toMatchObject({ code: -32602, data: { uri: 'imageseg://local/results/nothing-here' } });
  });

  it('runs a call paid with the X-Payment-Token header, once', async () => {
    const token = await mint(SYNC_SERVICE);
    const client = await modernClient({ 'X-Payment-Token': token });
    const paid = await client.callTool({ name: SYNC_TOOL, arguments: { ImageURL: imageUrl } });
    expect(paid.isError).toBeFalsy();
    expect(paid.structuredContent).toMatchObject({ code: '200', payment: 'committed', data: { Action: 'SegmentCommodity' } });
    expect(await usesOf(token)).toMatchObject({ callsUsed: 1, callsRemaining: 0 });
    const again = await client.callTool({ name: SYNC_TOOL, arguments: { ImageURL: imageUrl } });
    expect(again.isError).toBe(true);
    expect(again.structuredContent).toMatchObject({ error: 'payment_token_exhausted', charged: false });
  });

  it('runs and pays once per _meta["idempotency-key"]: the retry replays the answer; the key with other arguments is refused', async () => {
    const token = await mint(SYNC_SERVICE);
    const client = await modernClient({ 'X-Payment-Token': token });
    const key = `mcp-2026-${Date.now()}`;
    const before = providerCalls();
    const first = await client.callTool({ name: SYNC_TOOL, arguments: { ImageURL: imageUrl }, _meta: { 'idempotency-key': key } });
    const retry = await client.callTool({ name: SYNC_TOOL, arguments: { ImageURL: imageUrl }, _meta: { 'idempotency-key': key } });
    expect(first.isError).toBeFalsy();
    expect(retry.isError).toBeFalsy();
    expect((retry.structuredContent as { requestId: string }).requestId).toBe((first.structuredContent as { requestId: string }).requestId);
    expect(providerCalls()).toBe(before + 1);
    expect(await usesOf(token)).toMatchObject({ callsUsed: 1, callsRemaining: 0 });

    const reused = await call2026(mcpUrl, 'tools/call', { name: SYNC_TOOL, arguments: { ImageURL: imageUrl, ReturnForm: 'mask' }, _meta: { 'idempotency-key': key } }, { headers: { 'x-payment-token': token } });
    expect(reused.message.result).toMatchObject({ resultType: 'complete', isError: true, structuredContent: { error: { code: 'IDEMPOTENCY_KEY_REUSED' } } });
    expect(providerCalls()).toBe(before + 1);
  });

  it('takes x402 through the tool-result binding: PaymentRequired as an error result, the payload in _meta["x402/payment"]', async () => {
    const client = await modernClient();
    const unpaid = await client.callTool({ name: SYNC_TOOL, arguments: { ImageURL: imageUrl } });
    expect(unpaid.isError).toBe(true);
    const required = (JSON.parse((unpaid.content[0] as { text: string }).text) as { 'x402/error': { data: PaymentRequired } })['x402/error'].data;
    const before = providerCalls();
    const paid = await client.callTool({ name: SYNC_TOOL, arguments: { ImageURL: imageUrl }, _meta: { 'x402/payment': await payer.pay(required) } });
    expect(paid.isError).toBeFalsy();
    expect(paid._meta?.['x402/payment-response']).toMatchObject({ success: true, payer: payer.address });
    expect(providerCalls()).toBe(before + 1);
  });

  it('takes x402 through the extension binding: resultType "payment_required", then the paid retry with its settlement', async () => {
    const before = providerCalls();
    const unpaid = await call2026(mcpUrl, 'tools/call', { name: SYNC_TOOL, arguments: { ImageURL: imageUrl } }, { extensions: { [X402]: {} } });
    expect(unpaid.status).toBe(200);
    expect(unpaid.message.result).toMatchObject({ resultType: 'payment_required', paymentRequired: { x402Version: 2 } });
    const required = unpaid.message.result!.paymentRequired as PaymentRequired;
    expect(required.accepts.length).toBeGreaterThan(0);
    expect(providerCalls()).toBe(before);

    const paymentPayload = await payer.pay(required);
    const paid = await call2026(mcpUrl, 'tools/call', { name: SYNC_TOOL, arguments: { ImageURL: imageUrl }, _meta: { [X402]: { paymentPayload } } }, { extensions: { [X402]: {} } });
    expect(paid.message.result).toMatchObject({ resultType: 'complete', structuredContent: { payment: 'committed' } });
    expect((paid.message.result!._meta as Record<string, { settlementResponse: unknown }>)[X402].settlementResponse).toMatchObject({ success: true, payer: payer.address });
    expect(providerCalls()).toBe(before + 1);

    // A client that did not advertise the extension never gets the new result type.
    const plain = await call2026(mcpUrl, 'tools/call', { name: SYNC_TOOL, arguments: { ImageURL: imageUrl } });
    expect(plain.message.result).toMatchObject({ resultType: 'complete', isError: true });
  });
});

/** The ext-tasks client over the raw wire (the stock v2 client refuses `resultType: "task"`), paying with a header token. */
async function taskSession(token: string) {
  const client = await modernClient({ 'X-Payment-Token': token });
  let id = 1000;
  return createTaskSessionFromClient(client, {
    endpointId: 'imageseg-test',
    v2RequestFraming: { protocolVersion: PROTOCOL_2026, clientInfo: { name: 'tasks-2026-test', version: '1.0.0' }, clientCapabilities: {} },
    async rawDispatch(raw, options): Promise<JsonRpcResponse> {
      const request = raw as { method: string; params?: Record<string, unknown> };
      const params = request.params ?? {};
      const body = { jsonrpc: '2.0', id: id++, method: request.method, params };
      const response = await fetch(mcpUrl, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          'mcp-protocol-version': PROTOCOL_2026,
          'mcp-method': request.method,
          'x-payment-token': token,
          ...(request.method === 'tools/call' ? { 'mcp-name': String(params.name) } : {}),
          ...(options?.context?.headers ?? {}),
        },
        body: JSON.stringify(body),
        ...(options?.signal ? { signal: options.signal } : {}),
      });
      const text = await response.text();
      const message = (
        response.headers.get('content-type')?.includes('text/event-stream')
          ? text
              .split('\n')
              .filter((line) => line.startsWith('data:'))
              .map((line) => JSON.parse(line.slice(5)) as { id: number })
              .find((candidate) => candidate.id === body.id)
          : JSON.parse(text)
      ) as { result?: JsonValue; error?: { code: number; message: string } };
      return message.error ? { kind: 'error', error: message.error } : { kind: 'result', result: message.result ?? null };
    },
  });
}

describe('tasks through the io.modelcontextprotocol/tasks extension, on the tasks store', () => {
  it('creates a task for an asynchronous tool, polls it to its result and charges once', async () => {
    const token = await mint(ASYNC_SERVICE);
    const session = await taskSession(token);
    const execution = await session.callTool(ASYNC_TOOL, { ImageUrl: imageUrl });
    expect(execution.kind).toBe('task');
    const { outcome } = await execution.settle();
    expect(outcome.status).toBe('completed');
    const result = outcome.status === 'completed' ? outcome.result : undefined;
    expect(result?.structuredContent).toMatchObject({ payment: 'committed', data: { Status: 'PROCESS_SUCCESS' } });
    expect(await usesOf(token)).toMatchObject({ callsUsed: 1, callsInProgress: 0 });
  });

  it('cancels a running task: the job is left, the use comes back', async () => {
    const token = await mint(ASYNC_SERVICE);
    const session = await taskSession(token);
    const execution = await session.callTool(ASYNC_TOOL, { ImageUrl: imageUrl });
    expect(execution.kind).toBe('task');
    await execution.cancel();
    const { outcome } = await execution.settle();
    expect(outcome.status).toBe('cancelled');
    const deadline = Date.now() + 10_000;
    while ((await usesOf(token)).callsInProgress > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await usesOf(token)).toMatchObject({ callsUsed: 0, callsRemaining: 1, callsInProgress: 0 });
  });

  it('stops a plain call whose client hangs up mid-job: no more polling, the use comes back', async () => {
    const token = await mint(ASYNC_SERVICE);
    const callsBefore = emulator.calls.length;
    const hangUp = new AbortController();
    // No tasks extension: the call waits for the job on its own request, through the host name.
    const call = fetch(mcpUrl.replace('127.0.0.1', 'localhost'), {
      method: 'POST',
      signal: hangUp.signal,
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': PROTOCOL_2026, 'mcp-method': 'tools/call', 'mcp-name': ASYNC_TOOL, 'x-payment-token': token },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'tools/call',
        params: { name: ASYNC_TOOL, arguments: { ImageUrl: imageUrl }, _meta: { 'io.modelcontextprotocol/protocolVersion': PROTOCOL_2026, 'io.modelcontextprotocol/clientCapabilities': {}, 'io.modelcontextprotocol/clientInfo': { name: 'hang-up', version: '1' } } },
      }),
    }).then((response) => response.text());
    const submitBy = Date.now() + 10_000;
    while (!emulator.calls.slice(callsBefore).some((entry) => entry.action === 'SegmentHDCommonImage') && Date.now() < submitBy) await new Promise((resolve) => setTimeout(resolve, 20));
    expect((await usesOf(token)).callsInProgress).toBe(1);
    hangUp.abort();
    await expect(call).rejects.toThrow();
    const hungUpAt = Date.now();
    const deadline = hungUpAt + 10_000;
    while ((await usesOf(token)).callsInProgress > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await usesOf(token)).toMatchObject({ callsUsed: 0, callsRemaining: 1, callsInProgress: 0 });
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(emulator.calls.filter((entry) => entry.action === 'GetAsyncJobResult' && entry.at > hungUpAt + 300).length).toBe(0);
  });

  it('shows a task only to the credential that paid for it: others get -32602', async () => {
    const token = await mint(ASYNC_SERVICE);
    const created = await call2026(mcpUrl, 'tools/call', { name: ASYNC_TOOL, arguments: { ImageUrl: imageUrl } }, { extensions: { [TASKS]: {} }, headers: { 'x-payment-token': token } });
    expect(created.message.result).toMatchObject({ resultType: 'task', status: 'working' });
    const taskId = created.message.result!.taskId as string;
    expect(taskId.length).toBeGreaterThanOrEqual(22);
    const mine = await call2026(mcpUrl, 'tasks/get', { taskId }, { extensions: { [TASKS]: {} }, headers: { 'x-payment-token': token } });
    expect(mine.message.result).toMatchObject({ taskId, resultType: 'complete' });
    const other = await call2026(mcpUrl, 'tasks/get', { taskId }, { extensions: { [TASKS]: {} }, headers: { 'x-payment-token': await mint(ASYNC_SERVICE) } });
    expect(other.message.error?.code).toBe(-32602);
    const cancelledByOther = await call2026(mcpUrl, 'tasks/cancel', { taskId }, { extensions: { [TASKS]: {} } });
    expect(cancelledByOther.message.error?.code).toBe(-32602);
  });
});

describe('MCP 2026-07-28 over stdio', () => {
  it('serves a 2026-07-28 client and a 2025-11-25 client, told apart by their first message', async () => {
    const home = mkdtempSync(path.join(tmpdir(), 'imageseg-stdio2026-'));
    try {
      for (const [options, version] of [
        [{ versionNegotiation: { mode: { pin: PROTOCOL_2026 } } }, PROTOCOL_2026],
        [{}, '2025-11-25'],
      ] as const) {
        const client = new Client({ name: 'stdio-2026-test', version: '1.0.0' }, options);
        await client.connect(new StdioClientTransport({ command: process.execPath, args: [path.resolve('dist/cli.js'), 'stdio'], cwd: home, env: { PATH: process.env.PATH ?? '', HOME: home, PAYMENTS: 'off' }, stderr: 'ignore' }));
        clients.push(client);
        expect(client.getNegotiatedProtocolVersion()).toBe(version);
        expect((await client.listTools()).tools.map((tool) => tool.name)).toContain(SYNC_TOOL);
        const made = await client.callTool({ name: SYNC_TOOL, arguments: { ImageURL: `data:image/png;base64,${(await discOnWhite()).toString('base64')}` } });
        expect(made.isError).toBeFalsy();
        expect(made.structuredContent).toMatchObject({ code: '200', data: { Action: 'SegmentCommodity', Provider: 'local' } });
        await client.close();
      }
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});
