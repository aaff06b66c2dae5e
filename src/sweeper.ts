import type { CallRecordStore, JobRecord } from './payments/index.js';
import type { ResultStore } from './results/result-store.js';
import type { TaskRecords } from './tasks/index.js';
import type { Logger } from './logger.js';
import type { Metrics, RecordKind } from './metrics.js';
import type { SweepLock } from './sweep-lock.js';

export type RecordCounts = Record<RecordKind, number>;

const KINDS: RecordKind[] = ['idempotency', 'jobs', 'tasks', 'results', 'holds'];
const LONGEST_INTERVAL_MS = 10 * 60_000;
// Soon, not at once: a server's start (stdio answers `initialize` first) does not wait on the database.
const FIRST_ROUND_MS = 5_000;

export interface SweeperOptions {
  records: () => Promise<CallRecordStore>;
  /** The sweeper's own task records: opened on its first round, closed by `stop`. */
  openTasks: () => Promise<TaskRecords>;
  results: ResultStore;
  /** The sweeper's own: closed by `stop`. */
  lock: SweepLock;
  /** Gives back the payment of a job whose hold ended; the job is already closed as released. */
  releaseHold: (job: JobRecord) => Promise<void>;
  /** IMAGESEG_RECORD_TTL_SECONDS, in ms. */
  recordTtlMs: number;
  /** IMAGESEG_RESULT_TTL, in ms. */
  resultTtlMs: number;
  metrics: Metrics;
  logger: Logger;
}

export interface Sweeper {
  /**
   * One round at `now`: what this process swept, per kind; undefined when another replica had the round. Never
   * throws: a store that fails is logged and the others are still swept.
   */
  sweep(now?: number): Promise<RecordCounts | undefined>;
  /** Sweeps every `min(min(record TTL, result TTL) / 2, 10 min)`, the first time soon; the timer keeps no process alive. */
  start(): void;
  /** Stops the timer, waits for a round in progress and closes what the sweeper opened. */
  stop(): Promise<void>;
}

export const sweepIntervalMs = (recordTtlMs: number, resultTtlMs: number) => Math.min(Math.min(recordTtlMs, resultTtlMs) / 2, LONGEST_INTERVAL_MS);

/** Deletes what has outlived its TTL (idempotency records, jobs, tasks, stored results) and ends holds whose time is up. */
export function createSweeper(options: SweeperOptions): Sweeper {
  const { records, results, lock, releaseHold, recordTtlMs, metrics, logger } = options;
  const intervalMs = sweepIntervalMs(recordTtlMs, options.resultTtlMs);
  let tasks: Promise<TaskRecords> | undefined;
  const openTasks = () =>
    (tasks ??= options.openTasks().catch((error: unknown) => {
      tasks = undefined;
      throw error;
    }));
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> | undefined;
  let stopped = false;

  async function guarded<T>(what: string, work: () => Promise<T>): Promise<T | undefined> {
    try {
      return await work();
    } catch (error) {
      logger.warn({ err: (error as Error).message }, `sweep: ${what} failed; the next round tries again`);
      return undefined;
    }
  }

  async function endHolds(store: CallRecordStore, now: number): Promise<number> {
    let ended = 0;
    for (const job of await store.endedHolds(now)) {
      // Only the process whose close took the job gives back what is still held.
      if (!(await store.closeJob(job.jobId, 'released', now))) continue;
      ended += 1;
      await guarded(`giving back the payment held for job ${job.jobId}`, () => releaseHold(job));
    }
    return ended;
  }

  async function sweepStores(now: number): Promise<RecordCounts> {
    const ledger = await guarded('the ledger', async () => {
      const store = await records();
      // Lapsed token leases first (a timed-out job's included: its lease ends with its hold), then the jobs, so each
      // row is ended by one statement of one replica and the counts add up across replicas.
      const swept = await store.sweep(now, recordTtlMs);
      return { ...swept, holds: swept.holds + (await endHolds(store, now)) };
    });
    const taskCount = await guarded('the tasks', async () => (await openTasks()).deleteExpired(now));
    const resultCount = await guarded('the stored results', () => results.sweep(now));
    return { idempotency: 0, jobs: 0, holds: 0, ...ledger, tasks: taskCount ?? 0, results: resultCount ?? 0 };
  }

  async function countRecords(now: number): Promise<void> {
    const ledger = await guarded('counting the ledger', async () => (await records()).countRecords(now));
    const taskCount = await guarded('counting the tasks', async () => (await openTasks()).count());
    const resultCount = await guarded('counting the stored results', () => results.count());
    const counts: Partial<RecordCounts> = { ...ledger, tasks: taskCount, results: resultCount };
    for (const kind of KINDS) {
      const count = counts[kind];
      if (count !== undefined) metrics.setRecords(kind, count);
    }
  }

  async function sweep(now = Date.now()): Promise<RecordCounts | undefined> {
    if (stopped) return undefined;
    const swept = await guarded('taking the sweep lock', () => lock.whileHeld(() => sweepStores(now)));
    if (swept) for (const kind of KINDS) metrics.recordSwept(kind, swept[kind]);
    await countRecords(now);
    if (swept && KINDS.some((kind) => swept[kind] > 0)) logger.info({ swept }, 'swept expired records');
    return swept;
  }

  function schedule(delayMs: number) {
    timer = setTimeout(() => {
      running = sweep().finally(() => {
        running = undefined;
        if (!stopped) schedule(intervalMs);
      });
    }, delayMs);
    timer.unref();
  }

  return {
    sweep,
    start() {
      if (timer === undefined && !stopped) schedule(Math.min(intervalMs, FIRST_ROUND_MS));
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
      const opened = tasks;
      tasks = undefined;
      await lock.close();
      await (await opened?.catch(() => undefined))?.close();
    },
  };
}
