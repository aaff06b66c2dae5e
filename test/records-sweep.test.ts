import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { randomBytes, randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { Request } from '@modelcontextprotocol/sdk/types.js';
import { ENVIRONMENT_HELP, loadConfig } from '../src/config.js';
import { closeAppContext, createAppContext, type AppContext } from '../src/app.js';
import { createLogger } from '../src/logger.js';
import type { CallRecordStore } from '../src/payments/index.js';
import { sweepIntervalMs, type RecordCounts } from '../src/sweeper.js';
import { ADVISORY_LOCKS } from '../src/advisory-locks.js';
import { startTestServer } from './support/server.js';
import { isolatedPostgres } from './support/replica.js';

const SERVICE = 'product-background-removal';
const TTL_MS = 2000;
const TTL = { IMAGESEG_RECORD_TTL_SECONDS: String(TTL_MS / 1000), IMAGESEG_RESULT_TTL: String(TTL_MS / 1000) };
const PNG = Buffer.from('89504e470d0a1a0a', 'hex');
const taskCall: Request = { method: 'tools/call', params: { name: 'product_background_removal', task: {} } };
const nothing: RecordCounts = { idempotency: 0, jobs: 0, tasks: 0, results: 0, holds: 0 };

const directory = mkdtempSync(path.join(tmpdir(), 'imageseg-sweep-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

describe('IMAGESEG_RECORD_TTL_SECONDS', () => {
  it('is a positive number of seconds, a day by default, listed in --help', () => {
    expect(loadConfig({}).records.ttlMs).toBe(86_400_000);
    expect(loadConfig({ IMAGESEG_RECORD_TTL_SECONDS: '2.5' }).records.ttlMs).toBe(2500);
    expect(() => loadConfig({ IMAGESEG_RECORD_TTL_SECONDS: '0' })).toThrow(/IMAGESEG_RECORD_TTL_SECONDS/);
    expect(ENVIRONMENT_HELP.map(([name]) => name)).toContain('IMAGESEG_RECORD_TTL_SECONDS');
  });

  it('sweeps every half of the shorter TTL, at least every 10 minutes', () => {
    expect(sweepIntervalMs(2000, 4000)).toBe(1000);
    expect(sweepIntervalMs(86_400_000, 86_400_000)).toBe(600_000);
  });
});

// Every database the product runs on: a SQLite file (results beside it), and PostgreSQL when TEST_DATABASE_URL is set.
// Each test gets a database of its own (in PostgreSQL, a schema) so the counts it sees are its own rows.
const databases: Array<[string, () => Promise<{ url: string; drop(): Promise<void> }>]> = [
  ['SQLite', async () => ({ url: path.join(mkdtempSync(path.join(directory, 'sqlite-')), 'imageseg.db'), drop: async () => undefined })],
];
if (process.env.TEST_DATABASE_URL) databases.push(['PostgreSQL', () => isolatedPostgres(process.env.TEST_DATABASE_URL!, `records_sweep_${randomBytes(3).toString('hex')}`)]);

describe.each(databases)('sweeping on %s', (name, openDatabase) => {
  let database: { url: string; drop(): Promise<void> };
  const contexts: AppContext[] = [];

  /** One process of the product on the shared database; its sweeper is not started, the test drives it. */
  function replica(): AppContext {
    const environment = { DATABASE_URL: database.url, XDG_DATA_HOME: directory, LOG_LEVEL: 'silent', ...TTL };
    const context = createAppContext(loadConfig(environment, { transport: 'http', port: 0 }), createLogger('silent'));
    contexts.push(context);
    return context;
  }

  beforeEach(async () => {
    database = await openDatabase();
  });
  afterEach(async () => {
    await Promise.all(contexts.splice(0).map((context) => closeAppContext(context)));
    await database.drop();
  });

  /** A finished idempotent call, a delivered job, a job left running by a process that died, a task and a result. */
  async function createOneOfEach(context: AppContext, at: number) {
    const records = await context.payments.records();
    const scope = `token:${randomBytes(8).toString('hex')}`;
    const key = randomUUID();
    expect(await records.claimIdempotencyKey({ scope, key, fingerprint: 'f', now: at, leaseUntil: at + 1000, expiresAt: at + TTL_MS })).toBeUndefined();
    await records.finishIdempotencyKey(scope, key, '{"answer":1}');
    const [delivered, abandoned] = [randomUUID(), randomUUID()];
    for (const jobId of [delivered, abandoned]) await records.recordJob({ jobId, serviceId: SERVICE, payer: scope, now: at, holdUntil: at + 1000 });
    expect(await records.closeJob(delivered, 'committed', at)).toBe(true);
    const task = await context.tasks.storeFor({ owners: [] }).createTask({ ttl: 60 * 60_000 }, 1, taskCall);
    const result = await context.results.save(PNG, 'image/png');
    return { records, delivered, abandoned, task, result };
  }

  /** A token use held for a job that timed out, kept until `holdUntil`, as the pipeline keeps it. */
  async function holdForJob(context: AppContext, records: CallRecordStore, holdUntil: number) {
    const { paymentToken } = await context.payments.mintToken({ serviceId: SERVICE, calls: 1 });
    const capability = context.catalog.find(SERVICE)!;
    const reservation = await context.payments.gate.reserve(capability, { token: paymentToken });
    const jobId = randomUUID();
    await records.recordJob({ jobId, serviceId: SERVICE, payer: 'token', now: Date.now(), holdUntil: Date.now() + 60_000 });
    await records.holdJob(jobId, await reservation.keep(holdUntil), holdUntil);
    return { jobId, paymentToken };
  }

  it('deletes idempotency records, finished and abandoned jobs, tasks and stored results once their TTL has passed', async () => {
    const context = replica();
    const at = Date.now();
    const made = await createOneOfEach(context, at);
    expect(made.task.ttl).toBe(TTL_MS);

    expect(await context.sweeper.sweep(at + TTL_MS / 2)).toEqual(nothing);
    expect(await made.records.findJob(made.delivered)).toBeDefined();
    expect(await context.results.count()).toBe(1);

    expect(await context.sweeper.sweep(at + TTL_MS * 2.5)).toEqual({ idempotency: 1, jobs: 2, tasks: 1, results: 1, holds: 0 });
    expect(await made.records.findJob(made.delivered)).toBeUndefined();
    expect(await made.records.findJob(made.abandoned)).toBeUndefined();
    expect(await made.records.countRecords(at + TTL_MS * 2.5)).toEqual({ idempotency: 0, jobs: 0, holds: 0 });
    expect(await context.results.count()).toBe(0);
    expect(await context.results.load(made.result.id)).toBeNull();
    expect(await context.tasks.storeFor({ owners: [] }).getTask(made.task.taskId)).toBeNull();
  });

  it('keeps a held payment until its hold ends, then closes the job released and gives the token use back', async () => {
    const context = replica();
    const records = await context.payments.records();
    const holdUntil = Date.now() + 60_000;
    const { jobId, paymentToken } = await holdForJob(context, records, holdUntil);
    expect((await context.payments.describeToken(paymentToken))?.callsRemaining).toBe(0);

    // Long past the record TTL, but not the hold: nothing of it is touched.
    expect((await context.sweeper.sweep(holdUntil - 1000))?.holds).toBe(0);
    expect((await records.findJob(jobId))?.state).toBe('held');
    expect((await context.payments.describeToken(paymentToken))?.callsRemaining).toBe(0);

    // Its token use's lease ended with the hold, and the job's hold: a row each.
    expect(await context.sweeper.sweep(holdUntil)).toEqual({ ...nothing, holds: 2 });
    expect((await records.findJob(jobId))?.state).toBe('released');
    expect((await context.payments.describeToken(paymentToken))?.callsRemaining).toBe(1);
    expect(await context.sweeper.sweep(holdUntil)).toEqual(nothing);
    // A released job is kept for the record TTL like any other, then deleted.
    expect(await context.sweeper.sweep(holdUntil + TTL_MS)).toEqual({ ...nothing, jobs: 1 });
  });

  it('gives back a token use whose call died holding it once its lease ends', async () => {
    const context = replica();
    const { paymentToken } = await context.payments.mintToken({ serviceId: SERVICE, calls: 1 });
    await context.payments.gate.reserve(context.catalog.find(SERVICE)!, { token: paymentToken });
    expect((await context.payments.describeToken(paymentToken))?.callsInProgress).toBe(1);
    expect(await context.sweeper.sweep(Date.now() + context.payments.leaseMs + 1)).toEqual({ ...nothing, holds: 1 });
    // Expired, not merely outlived: it no longer counts as in progress even now, within its old lease.
    expect((await context.payments.describeToken(paymentToken))?.callsInProgress).toBe(0);
  });

  it('never sweeps a row twice when two replicas sweep at once', async () => {
    const [first, second] = [replica(), replica()];
    const at = Date.now();
    const rounds = 4;
    const held: Array<{ jobId: string; paymentToken: string }> = [];
    for (let round = 0; round < rounds; round += 1) {
      await createOneOfEach(round % 2 === 0 ? first : second, at);
      held.push(await holdForJob(first, await first.payments.records(), at + 1000));
    }
    const later = at + TTL_MS * 2.5;
    const swept = await Promise.all([first.sweeper.sweep(later), second.sweeper.sweep(later), first.sweeper.sweep(later), second.sweeper.sweep(later)]);
    const total = { ...nothing };
    for (const counts of swept) for (const kind of Object.keys(total) as Array<keyof RecordCounts>) total[kind] += counts?.[kind] ?? 0;
    // Each held job: its token lease and its hold.
    expect(total).toEqual({ idempotency: rounds, jobs: 2 * rounds, tasks: rounds, results: rounds, holds: 2 * rounds });
    for (const { paymentToken } of held) expect((await first.payments.describeToken(paymentToken))?.callsRemaining).toBe(1);
  });

  it.runIf(name === 'PostgreSQL')('skips the round while another replica holds the sweep lock', async () => {
    const context = replica();
    const at = Date.now();
    await createOneOfEach(context, at);
    const other = new pg.Client({ connectionString: database.url });
    await other.connect();
    try {
      await other.query('BEGIN');
      expect((await other.query('SELECT pg_try_advisory_xact_lock($1) AS held', [ADVISORY_LOCKS.sweep])).rows[0].held).toBe(true);
      expect(await context.sweeper.sweep(at + TTL_MS * 2.5)).toBeUndefined();
      await other.query('COMMIT');
    } finally {
      await other.end();
    }
    expect(await context.sweeper.sweep(at + TTL_MS * 2.5)).toEqual({ idempotency: 1, jobs: 2, tasks: 1, results: 1, holds: 0 });
  });
});

describe('a running server', () => {
  it('sweeps on its own, soon after start, and reports it on /metrics', async () => {
    const server = await startTestServer({ PAYMENTS: 'off', ...TTL });
    try {
      const stored = await server.context.results.save(PNG, 'image/png');
      let metrics = '';
      const deadline = Date.now() + 15_000;
      while (Date.now() < deadline) {
        metrics = await (await fetch(`${server.url}/metrics`)).text();
        if (/imageseg_records_swept_total\{kind="results"\} 1\b/.test(metrics)) break;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      expect(metrics).toMatch(/imageseg_records_swept_total\{kind="results"\} 1\b/);
      for (const kind of ['idempotency', 'jobs', 'tasks', 'results', 'holds']) {
        expect(metrics).toContain(`imageseg_records_swept_total{kind="${kind}"}`);
        expect(metrics).toContain(`imageseg_records{kind="${kind}"}`);
      }
      expect(await server.context.results.load(stored.id)).toBeNull();
      expect(await server.context.results.count()).toBe(0);
    } finally {
      await server.close();
    }
    // Closed with the server: no round runs on stores that are gone.
    expect(await server.context.sweeper.sweep()).toBeUndefined();
  });
});
