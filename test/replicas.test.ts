import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import http from 'node:http';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import net from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Wallet } from 'ethers';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CallToolResultSchema } from '@modelcontextprotocol/sdk/types.js';
import type { PaymentRequired } from '@x402/core/types';
import { startAlibabaEmulator, type AlibabaEmulator } from './emulator/index.js';
import { startFacilitator, type LoopbackFacilitator } from './facilitator/index.js';
import { emulatorEnvironment } from './support/server.js';
import { createPayer, toHeader, type Payer } from './support/payments.js';
import { discOnWhite } from './support/images.js';
import { call2026 } from './support/mcp-2026.js';
import { isolatedPostgres, startReplica, type Replica } from './support/replica.js';
import { openLedger } from '../src/payments/ledger.js';
import { hashToken } from '../src/payments/tokens.js';

// Two live `imageseg-mcp http` processes, each in its own working directory, on one database: SQLite (one machine)
// always, PostgreSQL (replicas on many machines) when TEST_DATABASE_URL is set. The 2,000 calls on 200
// one-use tokens; REPLICA_CALLS=N runs N calls on N / 10 tokens instead.
const CALLS = Number(process.env.REPLICA_CALLS ?? 2000);
const TOKENS = CALLS / 10;
const REPLAYS = 200;
const RATE_LIMIT = 60;
const ADMIN_TOKEN = 'replica-operator';
const SERVICE = 'product-background-removal';
const PRICE = '0.10';
const HD = 'hd-general-segmentation';
const PAY_TO = new Wallet(Wallet.createRandom().privateKey).address;

interface Answer {
  status: number;
  headers: Headers;
  body: Record<string, any>;
}

/** Each request seems to come from a client of its own, through the trusted proxy (loopback), unless told. */
const someClient = () => `10.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}.${1 + Math.floor(Math.random() * 250)}`;

async function request(base: string, method: string, route: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  const response = await fetch(`${base}${route}`, {
    method,
    headers: { 'content-type': 'application/json', 'x-forwarded-for': someClient(), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  let parsed: Record<string, any>;
  try {
    parsed = JSON.parse(text) as Record<string, any>;
  } catch {
    parsed = { text };
  }
  return { status: response.status, headers: response.headers, body: parsed };
}

const operator = { authorization: `Bearer ${ADMIN_TOKEN}` };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const databases: Array<[string, 'sqlite' | 'postgres']> = [['SQLite', 'sqlite']];
if (process.env.TEST_DATABASE_URL) databases.push(['PostgreSQL', 'postgres']);

describe.each(databases)('two replicas on one %s database', (_name, kind) => {
  let emulator: AlibabaEmulator;
  let facilitator: LoopbackFacilitator;
  let payer: Payer;
  let imageUrl: string;
  let databaseUrl: string;
  let cleanUp: () => Promise<void>;
  let environment: Record<string, string>;
  let a: Replica;
  let b: Replica;
  const replicas: Replica[] = [];

  const start = async (extra: Record<string, string> = {}) => {
    const replica = await startReplica({ ...environment, ...extra });
    replicas.push(replica);
    return replica;
  };
  const providerRuns = (action = 'SegmentCommodity') => emulator.calls.filter((entry) => entry.action === action).length;
  const mint = async (base: string, calls = 1, serviceId = SERVICE) => {
    const minted = await request(base, 'POST', '/api/admin/tokens', { serviceId, calls }, operator);
    expect(minted.status).toBe(201);
    return minted.body.paymentToken as string;
  };
  const revenue = async (base: string) => (await request(base, 'GET', '/api/admin/revenue', undefined, operator)).body.total as { calls: number; usd: string };
  const callTool = (base: string, headers: Record<string, string>, id = SERVICE, body: unknown = { ImageURL: imageUrl }) => request(base, 'POST', `/api/tools/${id}`, body, headers);

  beforeAll(async () => {
    // The emulator shares the test process with a thousand clients: give its image downloads time.
    emulator = await startAlibabaEmulator({ jobTimings: { queuingMs: 200, processingMs: 800 }, downloadTimeoutMs: 30_000 });
    facilitator = await startFacilitator();
    payer = createPayer();
    facilitator.fund(payer.address, 1_000_000_000n);
    imageUrl = emulator.hostImage(await discOnWhite());
    if (kind === 'postgres') {
      const isolated = await isolatedPostgres(process.env.TEST_DATABASE_URL!, 'replicas');
      databaseUrl = isolated.url;
      cleanUp = () => isolated.drop();
    } else {
      const directory = mkdtempSync(path.join(tmpdir(), 'imageseg-replicas-'));
      databaseUrl = path.join(directory, 'imageseg.db');
      cleanUp = async () => rmSync(directory, { recursive: true, force: true });
    }
    environment = {
      ...emulatorEnvironment(emulator),
      PAYMENTS: 'required',
      X402_PAY_TO: PAY_TO,
      X402_FACILITATOR_URL: facilitator.url,
      ADMIN_TOKEN,
      DATABASE_URL: databaseUrl,
      IMAGESEG_PRICES: `${SERVICE}=${PRICE},mask-refinement=0.05`,
      IMAGESEG_RATE_LIMIT: String(RATE_LIMIT),
      IMAGESEG_TRUSTED_PROXIES: '127.0.0.1',
      IMAGESEG_JOB_DEADLINE_SECONDS: '20',
    };
    [a, b] = await Promise.all([start(), start()]);
  }, 60_000);

  afterAll(async () => {
    await Promise.all(replicas.map((replica) => replica.stop()));
    await facilitator?.close();
    await emulator?.close();
    await cleanUp?.();
  });

  it(`runs and charges each of ${TOKENS} one-use tokens exactly once under ${CALLS} concurrent calls split over both replicas`, async () => {
    const tokens = await Promise.all(Array.from({ length: TOKENS }, (_, index) => mint(index % 2 ? a.url : b.url)));
    const [runsBefore, chargedBefore] = [providerRuns(), await revenue(a.url)];
    const startedAt = Date.now();
    const answers = await Promise.all(Array.from({ length: CALLS }, (_, index) => callTool(index % 2 ? a.url : b.url, { 'X-Payment-Token': tokens[index % TOKENS] })));
    const ms = Date.now() - startedAt;
    const succeeded = answers.filter((answer) => answer.status === 200);
    const refused = answers.filter((answer) => answer.status === 402);
    const charged = await revenue(b.url);
    const others = answers.filter((answer) => answer.status !== 200 && answer.status !== 402);
    if (others.length > 0) console.log('unexpected answers', others.length, JSON.stringify(others.slice(0, 3).map((answer) => [answer.status, answer.body])));
    console.log(`${CALLS} concurrent calls on ${TOKENS} one-use tokens over 2 replicas (${kind}): ${succeeded.length} succeeded, ${refused.length} refused, ${providerRuns() - runsBefore} provider runs, ${charged.calls - chargedBefore.calls} charges, ${ms} ms`);
    expect(others).toEqual([]);
    expect(succeeded).toHaveLength(TOKENS);
    expect(refused).toHaveLength(CALLS - TOKENS);
    expect(providerRuns() - runsBefore).toBe(TOKENS);
    expect(charged.calls - chargedBefore.calls).toBe(TOKENS);
    const listed = (await request(a.url, 'GET', `/api/admin/tokens?service=${SERVICE}`, undefined, operator)).body.tokens as Array<{ id: string; callsUsed: number }>;
    const ours = new Set(tokens.map((token) => hashToken(token).slice(0, 16)));
    expect(listed.filter((token) => ours.has(token.id)).map((token) => token.callsUsed)).toEqual(Array(TOKENS).fill(1));
  }, 180_000);

  it(`settles one x402 payment replayed ${REPLAYS} times over both replicas once`, async () => {
    const unpaid = await callTool(a.url, {});
    expect(unpaid.status).toBe(402);
    const payload = await payer.pay(unpaid.body as unknown as PaymentRequired);
    const [settledBefore, runsBefore] = [facilitator.settlements.length, providerRuns()];
    const answers = await Promise.all(Array.from({ length: REPLAYS }, (_, index) => callTool(index % 2 ? a.url : b.url, { 'PAYMENT-SIGNATURE': toHeader(payload) })));
    const succeeded = answers.filter((answer) => answer.status === 200).length;
    console.log(`${REPLAYS} replays of one x402 payload over 2 replicas (${kind}): ${succeeded} success, ${facilitator.settlements.length - settledBefore} settlement, ${providerRuns() - runsBefore} provider run`);
    expect(succeeded).toBe(1);
    expect(facilitator.settlements.length - settledBefore).toBe(1);
    expect(providerRuns() - runsBefore).toBe(1);
  }, 60_000);

  it('lets replica B poll, fetch and cancel tasks started on replica A', async () => {
    const token = await mint(a.url, 2, HD);
    const connect = async (base: string) => {
      const mcp = new Client({ name: 'replica-test', version: '1.0.0' });
      await mcp.connect(new StreamableHTTPClientTransport(new URL(`${base}/mcp`), { requestInit: { headers: { 'X-Payment-Token': token, 'X-Forwarded-For': someClient() } } }));
      return mcp;
    };
    const [onA, onB] = [await connect(a.url), await connect(b.url)];
    const startTask = async () => {
      for await (const message of onA.experimental.tasks.callToolStream({ name: 'hd_general_segmentation', arguments: { ImageUrl: imageUrl } }, undefined, { task: { ttl: 60_000 } })) {
        if (message.type === 'taskCreated') return message.task.taskId;
        if (message.type === 'error') throw message.error;
      }
      throw new Error('no task was created');
    };
    try {
      const finished = await startTask();
      expect((await onB.experimental.tasks.getTask(finished)).taskId).toBe(finished);
      const result = await onB.experimental.tasks.getTaskResult(finished, CallToolResultSchema, { timeout: 20_000 });
      expect((result.structuredContent as { data: { Status: string } }).data.Status).toBe('PROCESS_SUCCESS');
      const cancelled = await startTask();
      await onB.experimental.tasks.cancelTask(cancelled);
      expect((await onB.experimental.tasks.getTask(cancelled)).status).toBe('cancelled');
      const state = async () => (await request(b.url, 'GET', `/api/payments/${token}`)).body;
      for (let attempt = 0; attempt < 100 && (await state()).callsInProgress !== 0; attempt++) await sleep(100);
      expect(await state()).toMatchObject({ callsUsed: 1, callsInProgress: 0, callsRemaining: 1 });
    } finally {
      await Promise.all([onA.close(), onB.close()]);
    }
  }, 60_000);

  it('lets replica B poll and cancel tasks a 2026-07-28 client started on replica A (tasks extension)', async () => {
    const token = await mint(a.url, 2, HD);
    const options = { extensions: { 'io.modelcontextprotocol/tasks': {} }, headers: { 'x-payment-token': token, 'x-forwarded-for': someClient() } };
    const startTask = async () => {
      const created = await call2026(`${a.url}/mcp`, 'tools/call', { name: 'hd_general_segmentation', arguments: { ImageUrl: imageUrl } }, options);
      expect(created.message.result).toMatchObject({ resultType: 'task', status: 'working' });
      return created.message.result!.taskId as string;
    };
    const onB = async (method: string, taskId: string) => (await call2026(`${b.url}/mcp`, method, { taskId }, options)).message.result!;
    const finished = await startTask();
    let polled = await onB('tasks/get', finished);
    for (let attempt = 0; attempt < 200 && polled.status === 'working'; attempt++) {
      await sleep(100);
      polled = await onB('tasks/get', finished);
    }
    expect(polled).toMatchObject({ status: 'completed', result: { resultType: 'complete', structuredContent: { payment: 'committed', data: { Status: 'PROCESS_SUCCESS' } } } });
    const cancelled = await startTask();
    await onB('tasks/cancel', cancelled);
    expect(await onB('tasks/get', cancelled)).toMatchObject({ status: 'cancelled' });
    const state = async () => (await request(b.url, 'GET', `/api/payments/${token}`)).body;
    for (let attempt = 0; attempt < 100 && (await state()).callsInProgress !== 0; attempt++) await sleep(100);
    expect(await state()).toMatchObject({ callsUsed: 1, callsInProgress: 0, callsRemaining: 1 });
  }, 60_000);

  it('serves a result stored by replica A from replica B', async () => {
    const token = await mint(a.url);
    const stored = await callTool(a.url, { 'X-Payment-Token': token }, SERVICE, { ImageURL: imageUrl, deliver: 'stored' });
    expect(stored.status).toBe(200);
    const link = new URL(stored.body.data.ImageURL as string);
    expect(link.origin).toBe(a.url);
    const fromB = await fetch(`${b.url}${link.pathname}`, { headers: { 'x-forwarded-for': someClient() } });
    expect(fromB.status).toBe(200);
    expect(fromB.headers.get('content-type')).toBe('image/png');
    expect((await fromB.arrayBuffer()).byteLength).toBeGreaterThan(100);
  });

  it('runs an idempotent retry sent to A, then B, once', async () => {
    const token = await mint(a.url, 3);
    const runsBefore = providerRuns();
    const headers = { 'X-Payment-Token': token, 'Idempotency-Key': `replicas-${kind}` };
    const first = await callTool(a.url, headers);
    const retry = await callTool(b.url, headers);
    expect(retry.status).toBe(200);
    expect(retry.body.requestId).toBe(first.body.requestId);
    expect(providerRuns() - runsBefore).toBe(1);
    expect((await request(b.url, 'GET', `/api/payments/${token}`)).body).toMatchObject({ callsUsed: 1, callsRemaining: 2 });
  });

  it('gives the operator prices, bundles, token lists and revenue on every replica', async () => {
    // IMAGESEG_PRICES: the 402 answer, the x402 amount, the catalog, OpenAPI and the service page all follow it.
    const unpaid = await callTool(b.url, {}, 'mask-refinement', { ImageURL: imageUrl, MaskImageURL: imageUrl });
    expect(unpaid.status).toBe(402);
    expect(unpaid.body.accepts[0].amount).toBe('50000');
    expect(unpaid.body.extensions.price.amount).toBe('0.05');
    const search = await request(a.url, 'GET', '/api/catalog/search?q=mask%20refinement');
    expect(JSON.stringify(search.body)).toContain('0.05');
    const openapi = (await request(b.url, 'GET', '/openapi.json')).body;
    expect(JSON.stringify(openapi)).toContain('"amount":"0.05"');
    expect((await request(a.url, 'GET', '/services/mask-refinement')).body.text).toContain('0.05');

    // A bundle of 5 calls costs 5 x the price and sells a token worth 5 calls.
    const asked = await request(a.url, 'POST', '/api/payments', { serviceId: SERVICE, calls: 5 });
    expect(asked.status).toBe(402);
    expect(asked.body.accepts[0].amount).toBe('500000');
    const bought = await request(b.url, 'POST', '/api/payments', { serviceId: SERVICE, calls: 5 }, { 'PAYMENT-SIGNATURE': toHeader(await payer.pay(asked.body as unknown as PaymentRequired)) });
    expect(bought.status).toBe(201);
    expect(bought.body).toMatchObject({ serviceId: SERVICE, callsRemaining: 5 });
    expect((await request(a.url, 'POST', '/api/payments', { serviceId: SERVICE, calls: 1001 })).body.error).toMatchObject({ code: 'INVALID_ARGUMENT' });

    const before = await revenue(a.url);
    expect((await callTool(a.url, { 'X-Payment-Token': bought.body.paymentToken })).status).toBe(200);
    expect((await callTool(b.url, { 'X-Payment-Token': bought.body.paymentToken })).status).toBe(200);
    const after = (await request(b.url, 'GET', `/api/admin/revenue?from=2000-01-01&to=${new Date().toISOString().slice(0, 10)}`, undefined, operator)).body;
    expect(after.total.calls - before.calls).toBe(2);
    expect(Number(after.total.usd) - Number(before.usd)).toBeCloseTo(0.2, 6);
    const today = after.days.find((day: { day: string; serviceId: string }) => day.day === new Date().toISOString().slice(0, 10) && day.serviceId === SERVICE);
    expect(today.calls).toBeGreaterThanOrEqual(2);

    const listed = (await request(a.url, 'GET', '/api/admin/tokens', undefined, operator)).body.tokens as Array<Record<string, unknown>>;
    const bundle = listed.find((token) => token.id === hashToken(bought.body.paymentToken).slice(0, 16));
    expect(bundle).toMatchObject({ serviceId: SERVICE, callsTotal: 5, callsUsed: 2, callsRemaining: 3, callsInProgress: 0, revoked: false, source: 'x402' });
    expect(JSON.stringify(listed)).not.toContain(bought.body.paymentToken);
    // The same from a terminal, straight against DATABASE_URL.
    const cli = (...args: string[]) => promisify(execFile)(process.execPath, [path.resolve('dist/cli.js'), ...args], { env: { ...process.env, ...environment } });
    const { stdout: tokenLines } = await cli('tokens', 'list', '--service', SERVICE);
    const bundleLine = tokenLines.split('\n').find((line) => line.startsWith(hashToken(bought.body.paymentToken).slice(0, 16)));
    expect(bundleLine?.split(/\s+/).slice(1, 5)).toEqual([SERVICE, '3', '2', '0']);
    expect(tokenLines).not.toContain(bought.body.paymentToken);
    const { stdout: revenueLines } = await cli('revenue', '--from', '2000-01-01');
    expect(revenueLines).toMatch(new RegExp(`^${new Date().toISOString().slice(0, 10)}\\s+${SERVICE}\\s+${today.calls}\\s+[\\d.]+$`, 'm'));
    expect(revenueLines).toMatch(new RegExp(`^total\\s+${after.total.calls}\\s+${after.total.usd.replace('.', '\\.')}$`, 'm'));
    expect((await request(a.url, 'GET', '/api/admin/tokens')).status).toBe(401);
    expect((await request(a.url, 'GET', '/api/admin/revenue')).status).toBe(401);

    const job = await callTool(a.url, { 'X-Payment-Token': await mint(a.url, 1, HD) }, HD, { ImageUrl: imageUrl });
    expect(job.status).toBe(200);
    const metrics = await (await fetch(`${a.url}/metrics`, { headers: operator })).text();
    expect(metrics).toMatch(/imageseg_payments_total\{method="token",outcome="committed"\} \d+/);
    expect(metrics).toMatch(new RegExp(`imageseg_revenue_usd_total\\{service="${SERVICE}"\\} [\\d.]+`));
    expect(metrics).toMatch(/imageseg_reservations_outstanding 0/);
    expect(metrics).toMatch(/imageseg_provider_duration_seconds_count\{provider="alibaba",action="SegmentCommodity",outcome="ok"\} \d+/);
    expect(metrics).toMatch(/imageseg_job_polls_count\{action="SegmentHDCommonImage"\} \d+/);
  }, 60_000);

  it('limits each client and each token to IMAGESEG_RATE_LIMIT requests a minute, across both replicas when they share PostgreSQL', async () => {
    // A window that ends mid-test would reset the counts.
    if (new Date().getSeconds() > 40) await sleep((61 - new Date().getSeconds()) * 1000);
    const shared = kind === 'postgres';
    const client = someClient();
    const over = 10;
    const answers: Answer[] = [];
    for (let index = 0; index < RATE_LIMIT + over; index++) {
      answers.push(await request(shared && index % 2 ? b.url : a.url, 'GET', '/api/catalog/search?q=sky', undefined, { 'x-forwarded-for': `203.0.113.9, ${client}` }));
    }
    expect(answers.filter((answer) => answer.status === 200)).toHaveLength(RATE_LIMIT);
    const limited = answers.filter((answer) => answer.status === 429);
    expect(limited).toHaveLength(over);
    expect(limited[0].body.error).toMatchObject({ code: 'RATE_LIMITED', retryable: true });
    expect(Number(limited[0].headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    // Another client behind the same proxy is not limited; a probe never is.
    expect((await request(a.url, 'GET', '/api/catalog/search?q=sky')).status).toBe(200);
    expect((await request(a.url, 'GET', '/healthz', undefined, { 'x-forwarded-for': client })).status).toBe(200);
    // From a peer that is not a trusted proxy, X-Forwarded-For is ignored: a forged one does not escape the limit.
    const fromUntrusted = (forwarded: string) =>
      new Promise<number>((resolve, reject) => {
        const target = new URL(`${a.url}/api/catalog/search?q=sky`);
        http
          .get({ host: target.hostname, port: target.port, path: `${target.pathname}${target.search}`, localAddress: '127.0.0.2', headers: { 'x-forwarded-for': forwarded } }, (response) => {
            response.resume();
            resolve(response.statusCode ?? 0);
          })
          .on('error', reject);
      });
    const statuses: number[] = [];
    for (let index = 0; index <= RATE_LIMIT; index++) statuses.push(await fromUntrusted(someClient()));
    expect(statuses.filter((status) => status === 429)).toHaveLength(1);
    if (shared) {
      // A token is counted wherever it is used, whoever uses it.
      const token = await mint(a.url, 1);
      const tokenStatuses: number[] = [];
      for (let index = 0; index <= RATE_LIMIT; index++) tokenStatuses.push((await request(index % 2 ? a.url : b.url, 'GET', '/api/catalog/search?q=sky', undefined, { 'X-Payment-Token': token })).status);
      expect(tokenStatuses.filter((status) => status === 429)).toHaveLength(1);
    }
  }, 120_000);

  it('commits or releases every use when a replica is killed mid-calls: none lost, none doubled', async () => {
    const victim = await start();
    const calls = 100;
    const tokens = await Promise.all(Array.from({ length: calls }, () => mint(a.url)));
    for (let index = 0; index < calls; index++) emulator.delayNext('SegmentCommodity', 300 + (index % 10) * 100);
    const [runsBefore, chargedBefore] = [providerRuns(), await revenue(a.url)];
    const pending = tokens.map((token, index) => callTool(index % 2 ? a.url : victim.url, { 'X-Payment-Token': token }).catch(() => ({ status: 0, headers: new Headers(), body: {} })));
    await sleep(600);
    victim.child.kill('SIGKILL');
    expect(await victim.exited).toBe('SIGKILL');
    const answers = await Promise.all(pending);
    const delivered = answers.map((answer) => answer.status === 200);
    const charged = (await revenue(a.url)).calls - chargedBefore.calls;
    const ledger = await openLedger(databaseUrl);
    try {
      const afterLease = Date.now() + 60 * 60_000;
      let released = 0;
      for (const [index, token] of tokens.entries()) {
        const now = await ledger.findToken(hashToken(token), Date.now());
        const later = await ledger.findToken(hashToken(token), afterLease);
        if (delivered[index]) expect(now).toMatchObject({ callsUsed: 1, callsHeld: 0 });
        else {
          // Not handed over: not charged, and the use is back once a dead process's lease has run out.
          expect(now?.callsUsed).toBe(0);
          expect(later).toMatchObject({ callsUsed: 0, callsHeld: 0 });
          released++;
        }
      }
      console.log(`SIGKILL of one replica during ${calls} calls (${kind}): ${delivered.filter(Boolean).length} delivered and charged, ${released} released, ${providerRuns() - runsBefore} provider runs, ${charged} charges`);
      expect(charged).toBe(delivered.filter(Boolean).length);
      expect(released).toBeGreaterThan(0);
    } finally {
      await ledger.close();
    }
  }, 120_000);

  it('drains on SIGTERM: calls in flight finish and are charged, new requests get 503 with Retry-After, stores close', async () => {
    const draining = await start({ IMAGESEG_SHUTDOWN_SECONDS: '5' });
    const token = await mint(draining.url);
    // Delays the killed replica's calls never used would go to this call first.
    emulator.clearFaults();
    emulator.delayNext('SegmentCommodity', 1500);
    const inFlight = callTool(draining.url, { 'X-Payment-Token': token });
    // A request already on its way when SIGTERM comes: its headers are not finished yet.
    const target = new URL(draining.url);
    const socket = net.connect(Number(target.port), target.hostname);
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write(`GET /api/catalog/search?q=sky HTTP/1.1\r\nHost: ${target.host}\r\nX-Forwarded-For: ${someClient()}\r\n`);
    let raw = '';
    socket.on('data', (chunk: Buffer) => (raw += chunk.toString()));
    await sleep(500);
    const signalledAt = Date.now();
    draining.child.kill('SIGTERM');
    await sleep(200);
    socket.write('\r\n');
    const answer = await inFlight;
    expect(answer.status).toBe(200);
    expect(await draining.exited).toBe(0);
    const drainMs = Date.now() - signalledAt;
    // Out as soon as the call is answered: not at the grace's end, nor at the keep-alive timeout of its connection.
    expect(drainMs).toBeLessThan(3500);
    await new Promise((resolve) => (socket.destroyed ? resolve(undefined) : socket.once('close', resolve)));
    expect(raw).toMatch(/^HTTP\/1\.1 503/);
    expect(raw).toMatch(/retry-after: \d+/i);
    expect(raw).toContain('SHUTTING_DOWN');
    expect(draining.log()).toContain('drained: stores closed');
    expect((await request(a.url, 'GET', `/api/payments/${token}`)).body).toMatchObject({ callsUsed: 1, callsInProgress: 0 });
    console.log(`SIGTERM drain (${kind}): the call in flight finished and was charged; exit ${drainMs} ms after the signal`);
  }, 60_000);
});
