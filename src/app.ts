import { capabilities } from '../tools/index.js';
import { ConfigError, type Config } from './config.js';
import { createLogger, type Logger } from './logger.js';
import { createCatalog, type Catalog } from './catalog/lookup.js';
import { withPrices } from './catalog/prices.js';
import { createProviderRegistry, type ProviderRegistry } from './providers/index.js';
import { createPayments, type Payments } from './payments/index.js';
import type { ResultStore } from './results/result-store.js';
import { openResultStore } from './results/open-result-store.js';
import { createCallPipeline, type CallPipeline } from './call.js';
import { createBatchRunner, type BatchRunner } from './batch.js';
import { createMetrics, type Metrics } from './metrics.js';
import { observedGate } from './observed-gate.js';
import { openRateLimiter, type RateLimiter } from './limits/rate-limiter.js';
import { createTaskService, openTaskRecords, type TaskService } from './tasks/index.js';
import { createSweeper, type Sweeper } from './sweeper.js';
import { openSweepLock } from './sweep-lock.js';

/** Everything a transport needs, built once from the config. */
export interface AppContext {
  config: Config;
  logger: Logger;
  catalog: Catalog;
  providers: ProviderRegistry;
  results: ResultStore;
  pipeline: CallPipeline;
  /** Many calls of one capability paid together, each through the pipeline. */
  batch: BatchRunner;
  /** MCP tasks, kept in the ledger database (DATABASE_URL) so every process on it answers for them. */
  tasks: TaskService;
  /** Tokens, x402 and the ledger; the pipeline sees only `payments.gate` (the free gate when PAYMENTS=off). */
  payments: Payments;
  metrics: Metrics;
  /** Aborted at shutdown: every call still running stops and is not charged. */
  shutdown: AbortController;
  /** IMAGESEG_RATE_LIMIT; undefined when off. */
  rateLimiter?: RateLimiter;
  /** Deletes expired records and ends lapsed holds; started by long-running servers only (http, stdio). */
  sweeper: Sweeper;
  /** Set at SIGTERM: new requests are answered 503 while the calls in flight finish. */
  draining: boolean;
}

export interface AppOverrides {
  /** Benchmarks: a provider that answers at once, with the rest of the product's wiring unchanged. */
  providers?: ProviderRegistry;
  /** Where stored results are said to be: over stdio this process's MCP resources, not a server that is not running. */
  resultBaseUrl?: string;
}

export function createAppContext(config: Config, logger: Logger = createLogger(config.logLevel), overrides: AppOverrides = {}): AppContext {
  let priced;
  try {
    priced = withPrices(capabilities, config.prices);
  } catch (error) {
    throw new ConfigError((error as Error).message);
  }
  const catalog = createCatalog(priced);
  const metrics = createMetrics();
  const providers = overrides.providers ?? createProviderRegistry(config, logger, metrics);
  const shutdown = new AbortController();
  const resultBase = overrides.resultBaseUrl;
  const results = openResultStore({ databaseUrl: config.databaseUrl, directory: config.results.directory, baseUrl: () => resultBase ?? config.publicBaseUrl, ttlMs: config.results.ttlMs, logger });
  const payments = createPayments({ config, catalog, logger });
  const gate = observedGate(payments.gate, metrics);
  const pipeline = createCallPipeline({
    catalog,
    providers,
    payments: gate,
    records: payments.records,
    leaseMs: payments.leaseMs,
    recordTtlMs: config.records.ttlMs,
    shutdown: shutdown.signal,
    results,
    images: config.images,
    inlineMaxBytes: config.results.inlineMaxBytes,
    logger,
    metrics,
  });
  const batch = createBatchRunner({ catalog, payments: gate, records: payments.records, leaseMs: payments.leaseMs, recordTtlMs: config.records.ttlMs, logger, pipeline });
  const openTasks = () => openTaskRecords(config.databaseUrl, logger);
  const tasks = createTaskService({ open: openTasks, maxTtlMs: config.records.ttlMs });
  const rateLimiter = config.rateLimitPerMinute ? openRateLimiter(config.rateLimitPerMinute, config.databaseUrl, logger) : undefined;
  const sweeper = createSweeper({
    records: payments.records,
    openTasks,
    results,
    lock: openSweepLock(config.databaseUrl, logger),
    async releaseHold(job) {
      const capability = catalog.find(job.serviceId);
      if (capability && job.hold !== null) await payments.gate.resume(capability, job.hold).release();
    },
    recordTtlMs: config.records.ttlMs,
    resultTtlMs: config.results.ttlMs,
    metrics,
    logger,
  });
  return { config, logger, catalog, providers, results, pipeline, batch, tasks, payments, metrics, shutdown, rateLimiter, sweeper, draining: false };
}

/** Stops the sweeper, then closes every store the context opened (ledger, tasks, results, rate counters); failures logged. */
export async function closeAppContext(context: AppContext): Promise<void> {
  // A sweep in progress finishes before the stores it uses close.
  const stopped = await Promise.allSettled([context.sweeper.stop()]);
  const closing = [context.payments.close(), context.tasks.close(), context.results.close(), ...(context.rateLimiter ? [context.rateLimiter.close()] : [])];
  for (const outcome of [...stopped, ...(await Promise.allSettled(closing))]) {
    if (outcome.status === 'rejected') context.logger.warn({ err: (outcome.reason as Error)?.message }, 'a store did not close cleanly');
  }
}
