import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { CallToolResultSchema, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { PaymentRequired } from '@x402/core/types';
import { Wallet } from 'ethers';
import { startAlibabaEmulator, type AlibabaEmulator } from './emulator/index.js';
import { emulatorEnvironment, startTestServer, type TestServer } from './support/server.js';
import { discOnWhite } from './support/images.js';
import { createPayer, toHeader } from './support/payments.js';
import { startFacilitator } from './facilitator/index.js';
import { loadConfig } from '../src/config.js';
import { createAppContext, type AppContext } from '../src/app.js';
import { createLogger } from '../src/logger.js';

const CLI = path.resolve('dist/cli.js');
const TOOL = 'hd_general_segmentation';
const SERVICE = 'hd-general-segmentation';

let emulator: AlibabaEmulator;
let dataDirectory: string;
let databaseUrl: string;
let server: TestServer;
let imageUrl: string;
const clients: Client[] = [];

function paidEnvironment(): Record<string, string> {
  return { ...emulatorEnvironment(emulator), PAYMENTS: 'required', DATABASE_URL: databaseUrl };
}

async function connectWith(url: string, headers?: Record<string, string>): Promise<Client> {
  const mcp = new Client({ name: 'tasks-test', version: '1.0.0' });
  await mcp.connect(new StreamableHTTPClientTransport(new URL(`${url}/mcp`), headers ? { requestInit: { headers } } : undefined));
  clients.push(mcp);
  return mcp;
}

const connect = (url: string, paymentToken?: string) => connectWith(url, paymentToken ? { 'X-Payment-Token': paymentToken } : undefined);

const mint = async (context: AppContext, calls = 1) => (await context.payments.mintToken({ serviceId: SERVICE, calls })).paymentToken;

/** A task-augmented tools/call: answered at once with the task, whose run goes on after the request. */
async function startTask(mcp: Client, args: Record<string, unknown> = {}): Promise<string> {
  const stream = mcp.experimental.tasks.callToolStream({ name: TOOL, arguments: { ImageUrl: imageUrl, ...args } }, undefined, { task: { ttl: 60_000 } });
  for await (const message of stream) {
    if (message.type === 'taskCreated') return message.task.taskId;
    if (message.type === 'error') throw message.error;
  }
  throw new Error('no task was created');
}

async function finished(mcp: Client, taskId: string): Promise<string> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const { status } = await mcp.experimental.tasks.getTask(taskId);
    if (status !== 'working') return status;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`task ${taskId} did not finish`);
}

/** The error an MCP request is answered with, the task id it names replaced, so two answers compare. */
async function refusal(request: Promise<unknown>, taskId: string): Promise<string> {
  const error = await request.then(
    () => undefined,
    (caught: unknown) => caught as { code: number; message: string },
  );
  expect(error, 'the request should have been refused').toBeDefined();
  return `${error!.code} ${error!.message.replaceAll(taskId, '<id>')}`;
}

const until = async (condition: () => boolean | Promise<boolean>, what: string, ms = 10_000) => {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
};
const submitted = () => until(() => emulator.calls.some((entry) => entry.action === 'SegmentHDCommonImage'), 'the job to be submitted');
const pollsAfter = (at: number) => emulator.calls.filter((entry) => entry.action === 'GetAsyncJobResult' && entry.at > at).length;
const settle = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

beforeAll(async () => {
  // Long enough jobs that a run which keeps polling after a cancel is seen doing it.
  emulator = await startAlibabaEmulator({ jobTimings: { queuingMs: 300, processingMs: 1500 } });
  dataDirectory = mkdtempSync(path.join(tmpdir(), 'imageseg-tasks-'));
  databaseUrl = path.join(dataDirectory, 'imageseg.db');
  server = await startTestServer(paidEnvironment(), { jobPollingMs: 100 });
  imageUrl = emulator.hostImage(await discOnWhite());
});

afterAll(async () => {
  await Promise.all(clients.map((mcp) => mcp.close().catch(() => undefined)));
  await server?.close();
  await emulator?.close();
  rmSync(dataDirectory, { recursive: true, force: true });
});

beforeEach(() => {
  emulator.calls.length = 0;
});

describe('tasks belong to the credential that paid for them', () => {
  it('shows a task to its payer only: others list nothing and get the unknown-id answer', async () => {
    const [tokenA, tokenB] = [await mint(server.context), await mint(server.context)];
    const alice = await connect(server.url, tokenA);
    const bob = await connect(server.url, tokenB);
    const anonymous = await connect(server.url);

    // Paid by the X-Payment-Token header alone: no paymentToken argument.
    const taskId = await startTask(alice);
    expect(await finished(alice, taskId)).toBe('completed');
    const result = await alice.experimental.tasks.getTaskResult(taskId, CallToolResultSchema);
    expect(result.isError).toBeFalsy();
    expect((result.structuredContent as { data: { Status: string } }).data.Status).toBe('PROCESS_SUCCESS');
    expect((await server.context.payments.describeToken(tokenA))?.callsUsed).toBe(1);
    expect((await alice.experimental.tasks.listTasks()).tasks.map((task) => task.taskId)).toEqual([taskId]);

    const unknownId = 'A'.repeat(taskId.length);
    for (const stranger of [bob, anonymous]) {
      expect((await stranger.experimental.tasks.listTasks()).tasks).toEqual([]);
      expect(await refusal(stranger.experimental.tasks.getTask(taskId), taskId)).toBe(await refusal(stranger.experimental.tasks.getTask(unknownId), unknownId));
      expect(await refusal(stranger.experimental.tasks.getTaskResult(taskId, CallToolResultSchema), taskId)).toBe(
        await refusal(stranger.experimental.tasks.getTaskResult(unknownId, CallToolResultSchema), unknownId),
      );
      expect(await refusal(stranger.experimental.tasks.cancelTask(taskId), taskId)).toBe(await refusal(stranger.experimental.tasks.cancelTask(unknownId), unknownId));
    }
    expect((await alice.experimental.tasks.getTask(taskId)).status).toBe('completed');
  });

  it('answers a plain tools/call paid by the header through the task the SDK polls', async () => {
    const token = await mint(server.context);
    const mcp = await connect(server.url, token);
    const result = (await mcp.callTool({ name: TOOL, arguments: { ImageUrl: imageUrl } }, undefined, { timeout: 20_000 })) as CallToolResult;
    expect(result.isError).toBeFalsy();
    expect((await server.context.payments.describeToken(token))?.callsUsed).toBe(1);
  });

  it('binds an x402-paid task to its verified payer: a fresh payload of the same payer in PAYMENT-SIGNATURE shows it, the settled one does not', async () => {
    const facilitator = await startFacilitator();
    const payTo = new Wallet(Wallet.createRandom().privateKey).address;
    const x402Server = await startTestServer({ ...paidEnvironment(), X402_PAY_TO: payTo, X402_FACILITATOR_URL: facilitator.url }, { jobPollingMs: 100 });
    try {
      const payer = createPayer();
      facilitator.fund(payer.address, 10_000_000n);
      const mcp = await connectWith(x402Server.url);
      const unpaid = (await mcp.callTool({ name: TOOL, arguments: { ImageUrl: imageUrl } })) as CallToolResult;
      const payment = await payer.pay(unpaid.structuredContent as unknown as PaymentRequired);
      const stream = mcp.experimental.tasks.callToolStream({ name: TOOL, arguments: { ImageUrl: imageUrl }, _meta: { 'x402/payment': payment } }, undefined, { task: { ttl: 60_000 } });
      let taskId = '';
      for await (const message of stream) {
        if (message.type === 'error') throw message.error;
        // Following the task takes the payment in a header: this client sent it in _meta only.
        if (message.type === 'taskCreated') taskId = message.task.taskId;
        break;
      }
      const owner = await connectWith(x402Server.url, { 'PAYMENT-SIGNATURE': toHeader(await payer.pay(unpaid.structuredContent as unknown as PaymentRequired)) });
      expect(await finished(owner, taskId)).toBe('completed');
      // Settled, the paying payload is public on-chain: it proves nothing any more.
      const replayed = await connectWith(x402Server.url, { 'PAYMENT-SIGNATURE': toHeader(payment) });
      expect(await refusal(replayed.experimental.tasks.getTask(taskId), taskId)).toContain('Task not found');
      expect((await replayed.experimental.tasks.listTasks()).tasks).toEqual([]);
      expect((await owner.experimental.tasks.listTasks()).tasks.map((task) => task.taskId)).toEqual([taskId]);
      const result = await owner.experimental.tasks.getTaskResult(taskId, CallToolResultSchema);
      expect(result.isError).toBeFalsy();
      for (const stranger of [mcp, await connect(x402Server.url, await mint(x402Server.context))]) {
        expect(await refusal(stranger.experimental.tasks.getTask(taskId), taskId)).toContain('Task not found');
        expect((await stranger.experimental.tasks.listTasks()).tasks).toEqual([]);
      }
    } finally {
      await x402Server.close();
      await facilitator.close();
    }
  });

  it('gives tasks unguessable ids: at least 128 random bits each', async () => {
    const token = await mint(server.context, 2);
    const mcp = await connect(server.url, token);
    const ids = [await startTask(mcp), await startTask(mcp)];
    for (const id of ids) {
      const bits = /^[0-9a-f]+$/.test(id) ? id.length * 4 : /^[A-Za-z0-9_-]+$/.test(id) ? id.length * 6 : 0;
      expect(bits).toBeGreaterThanOrEqual(128);
    }
    expect(ids[0]).not.toBe(ids[1]);
    await Promise.all(ids.map((id) => finished(mcp, id)));
  });
});

describe('tasks live in the database', () => {
  it('lets a second server on the same SQLite file answer tasks/get and tasks/result', async () => {
    const replica = await startTestServer(paidEnvironment(), { jobPollingMs: 100 });
    try {
      const token = await mint(server.context);
      const first = await connect(server.url, token);
      const second = await connect(replica.url, token);
      const taskId = await startTask(first);
      // tasks/result on the replica waits for the run on the first server to store its result.
      const result = await second.experimental.tasks.getTaskResult(taskId, CallToolResultSchema, { timeout: 20_000 });
      expect((result.structuredContent as { data: { Status: string } }).data.Status).toBe('PROCESS_SUCCESS');
      expect((await second.experimental.tasks.getTask(taskId)).status).toBe('completed');
      expect((await second.experimental.tasks.listTasks()).tasks.map((task) => task.taskId)).toContain(taskId);
    } finally {
      await replica.close();
    }
  });

  it.runIf(process.env.TEST_DATABASE_URL)('lets a second server on the same PostgreSQL answer tasks/result', async () => {
    const environment = { ...paidEnvironment(), DATABASE_URL: process.env.TEST_DATABASE_URL! };
    const [one, two] = [await startTestServer(environment, { jobPollingMs: 100 }), await startTestServer(environment, { jobPollingMs: 100 })];
    try {
      const token = await mint(one.context);
      const taskId = await startTask(await connect(one.url, token));
      const result = await (await connect(two.url, token)).experimental.tasks.getTaskResult(taskId, CallToolResultSchema, { timeout: 20_000 });
      expect((result.structuredContent as { data: { Status: string } }).data.Status).toBe('PROCESS_SUCCESS');
      expect(await refusal((await connect(two.url)).experimental.tasks.getTask(taskId), taskId)).toContain('Task not found');
    } finally {
      await Promise.all([one.close(), two.close()]);
    }
  });

  it('stops a run when another server records its tasks/cancel', async () => {
    const replica = await startTestServer(paidEnvironment(), { jobPollingMs: 100 });
    try {
      const token = await mint(server.context);
      const taskId = await startTask(await connect(server.url, token), { paymentToken: token });
      await submitted();
      await (await connect(replica.url, token)).experimental.tasks.cancelTask(taskId);
      const cancelledAt = Date.now();
      await settle(1500);
      // The running server's watcher sees the cancel within its period (500 ms).
      expect(pollsAfter(cancelledAt + 700)).toBe(0);
      await until(async () => (await server.context.payments.describeToken(token))?.callsInProgress === 0, 'the use to come back');
      expect((await server.context.payments.describeToken(token))?.callsUsed).toBe(0);
    } finally {
      await replica.close();
    }
  });
});

describe('cancelling stops the Alibaba job polling and charges nothing', () => {
  it('tasks/cancel by the owner stops the run at once', async () => {
    const token = await mint(server.context);
    const mcp = await connect(server.url, token);
    const taskId = await startTask(mcp, { paymentToken: token });
    await submitted();
    const cancelled = await mcp.experimental.tasks.cancelTask(taskId);
    const cancelledAt = Date.now();
    expect(cancelled.status).toBe('cancelled');
    await settle(1200);
    expect(pollsAfter(cancelledAt + 150)).toBe(0);
    expect((await mcp.experimental.tasks.getTask(taskId)).status).toBe('cancelled');
    await until(async () => (await server.context.payments.describeToken(token))?.callsInProgress === 0, 'the use to come back');
    expect((await server.context.payments.describeToken(token))).toMatchObject({ callsUsed: 0, callsRemaining: 1 });
  });

  it('a plain tools/call over MCP HTTP cancelled by its client (notifications/cancelled)', async () => {
    const token = await mint(server.context);
    const mcp = await connect(server.url);
    const cancel = new AbortController();
    const call = mcp.callTool({ name: TOOL, arguments: { ImageUrl: imageUrl, paymentToken: token } }, undefined, { signal: cancel.signal, timeout: 20_000 });
    await submitted();
    cancel.abort('the user changed their mind');
    const cancelledAt = Date.now();
    await expect(call).rejects.toThrow();
    await settle(1500);
    expect(pollsAfter(cancelledAt + 150)).toBe(0);
    await until(async () => (await server.context.payments.describeToken(token))?.callsInProgress === 0, 'the use to come back');
    expect((await server.context.payments.describeToken(token))).toMatchObject({ callsUsed: 0, callsRemaining: 1 });
  });

  it('a plain tools/call over MCP HTTP whose connection closes', async () => {
    const token = await mint(server.context);
    const mcp = await connect(server.url, token);
    const call = mcp.callTool({ name: TOOL, arguments: { ImageUrl: imageUrl, paymentToken: token } }, undefined, { timeout: 20_000 });
    await submitted();
    await mcp.close();
    const closedAt = Date.now();
    await expect(call).rejects.toThrow();
    await settle(1500);
    expect(pollsAfter(closedAt + 150)).toBe(0);
    await until(async () => (await server.context.payments.describeToken(token))?.callsInProgress === 0, 'the use to come back');
    expect((await server.context.payments.describeToken(token))?.callsUsed).toBe(0);
  });

  it('a plain tools/call over stdio cancelled by its client', async () => {
    if (!existsSync(CLI)) throw new Error('dist/cli.js is missing: run `npm run build` (npm test does)');
    const stdioDirectory = mkdtempSync(path.join(tmpdir(), 'imageseg-tasks-stdio-'));
    const environment = { PATH: process.env.PATH ?? '', ...paidEnvironment(), DATABASE_URL: path.join(stdioDirectory, 'imageseg.db') };
    // The operator's view of the same ledger file the stdio server uses.
    const operator = createAppContext(loadConfig({ ...environment, LOG_LEVEL: 'silent' }, { transport: 'stdio' }), createLogger('silent'));
    const mcp = new Client({ name: 'tasks-stdio-test', version: '1.0.0' });
    try {
      const token = await mint(operator);
      await mcp.connect(new StdioClientTransport({ command: process.execPath, args: [CLI, 'stdio'], env: environment, stderr: 'pipe' }));
      const cancel = new AbortController();
      const call = mcp.callTool({ name: TOOL, arguments: { ImageUrl: imageUrl, paymentToken: token } }, undefined, { signal: cancel.signal, timeout: 20_000 });
      await submitted();
      await settle(400);
      cancel.abort('the user changed their mind');
      const cancelledAt = Date.now();
      await expect(call).rejects.toThrow();
      // Stdio polls with the default backoff (350 ms, x1.35): a run that went on would poll twice more in 2 s.
      await settle(2000);
      expect(pollsAfter(cancelledAt + 150)).toBe(0);
      await until(async () => (await operator.payments.describeToken(token))?.callsInProgress === 0, 'the use to come back');
      expect((await operator.payments.describeToken(token))).toMatchObject({ callsUsed: 0, callsRemaining: 1 });
      // One client over stdio: it sees the tasks it made.
      expect((await mcp.experimental.tasks.listTasks()).tasks).toHaveLength(1);
    } finally {
      await mcp.close();
      await operator.payments.close();
      await operator.tasks.close();
      rmSync(stdioDirectory, { recursive: true, force: true });
    }
  });
});
