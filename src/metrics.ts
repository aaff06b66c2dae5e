import { createRequire } from 'node:module';
import type * as PromClient from 'prom-client';
import type { Registry } from 'prom-client';

export type PaymentMethod = 'token' | 'x402' | 'none';
/** reserved, committed, released, kept (a timed-out job's), refused (an error code's lower case), bought (a token). */
export type PaymentOutcome = string;
/** What the sweeper keeps in check (src/sweeper.ts). */
export type RecordKind = 'idempotency' | 'jobs' | 'tasks' | 'results' | 'holds';

/** Prometheus metrics of one process: calls, payments, revenue, provider latency, job polls, rate limiting, records. */
export interface Metrics {
  registry: Registry;
  recordCall(labels: { tool: string; provider: string; outcome: string }, seconds: number): void;
  /** One provider's attempt inside a call (ok, an error code, skipped or circuit_open). */
  recordProviderCall(labels: { tool: string; provider: string; outcome: string }): void;
  /** A call passed on from `provider` to the next one in the order, and why. */
  recordFallback(labels: { tool: string; provider: string; reason: string }): void;
  recordPayment(labels: { method: PaymentMethod; outcome: PaymentOutcome }): void;
  /** A committed charge of `usd` (decimal) for `service`. */
  recordRevenue(service: string, usd: string): void;
  /** Payments held by calls in flight in this process: +1 on reserve, -1 when committed, released or kept. */
  changeOutstanding(by: 1 | -1): void;
  recordProviderRun(labels: { provider: string; action: string; outcome: string }, seconds: number): void;
  /** GetAsyncJobResult polls one asynchronous job took. */
  recordJobPolls(action: string, polls: number): void;
  recordRateLimited(): void;
  /** Rows one sweep deleted (holds: token leases it expired and held jobs it closed), by kind. */
  recordSwept(kind: RecordKind, count: number): void;
  /** Rows kept in the database now (holds: payments held now), by kind. */
  setRecords(kind: RecordKind, count: number): void;
}

/**
 * The metrics of this process. prom-client (with the @opentelemetry/api it pulls in) is loaded when the registry is
 * first asked for (the HTTP server does so when it mounts /metrics) or a metric first recorded: a stdio server
 * answers `initialize` without it.
 */
export function createMetrics(): Metrics {
  let built: Metrics | undefined;
  const metrics = () => (built ??= buildMetrics(createRequire(import.meta.url)('prom-client') as typeof PromClient));
  return {
    get registry() {
      return metrics().registry;
    },
    recordCall: (labels, seconds) => metrics().recordCall(labels, seconds),
    recordProviderCall: (labels) => metrics().recordProviderCall(labels),
    recordFallback: (labels) => metrics().recordFallback(labels),
    recordPayment: (labels) => metrics().recordPayment(labels),
    recordRevenue: (service, usd) => metrics().recordRevenue(service, usd),
    changeOutstanding: (by) => metrics().changeOutstanding(by),
    recordProviderRun: (labels, seconds) => metrics().recordProviderRun(labels, seconds),
    recordJobPolls: (action, polls) => metrics().recordJobPolls(action, polls),
    recordRateLimited: () => metrics().recordRateLimited(),
    recordSwept: (kind, count) => metrics().recordSwept(kind, count),
    setRecords: (kind, count) => metrics().setRecords(kind, count),
  };
}

function buildMetrics({ Counter, Gauge, Histogram, Registry, collectDefaultMetrics }: typeof PromClient): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];
  const calls = new Counter({ name: 'imageseg_calls_total', help: 'Tool calls by tool, provider and outcome (ok or an error code)', labelNames: ['tool', 'provider', 'outcome'] as const, registers });
  const duration = new Histogram({
    name: 'imageseg_call_duration_seconds',
    help: 'Tool call duration, request to answer (validation, payment, images, provider, delivery)',
    labelNames: ['tool', 'provider'] as const,
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 120],
    registers,
  });
  const providerCalls = new Counter({
    name: 'imageseg_provider_calls_total',
    help: 'Attempts at each provider by tool, provider and outcome (ok, an error code, skipped, circuit_open)',
    labelNames: ['tool', 'provider', 'outcome'] as const,
    registers,
  });
  const fallbacks = new Counter({
    name: 'imageseg_provider_fallbacks_total',
    help: 'Calls passed on to the next provider, by tool, the provider passed over and why',
    labelNames: ['tool', 'provider', 'reason'] as const,
    registers,
  });
  const payments = new Counter({ name: 'imageseg_payments_total', help: 'Payment steps by method (token, x402, none: an unpaid call refused) and outcome', labelNames: ['method', 'outcome'] as const, registers });
  const revenue = new Counter({ name: 'imageseg_revenue_usd_total', help: 'USD charged for delivered calls, by service', labelNames: ['service'] as const, registers });
  const outstanding = new Gauge({ name: 'imageseg_reservations_outstanding', help: 'Payments reserved by calls in flight in this process', registers });
  const providerLatency = new Histogram({
    name: 'imageseg_provider_duration_seconds',
    help: 'Provider run time (submit to result, polling included) by provider, Action and outcome',
    labelNames: ['provider', 'action', 'outcome'] as const,
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 120],
    registers,
  });
  const jobPolls = new Histogram({ name: 'imageseg_job_polls', help: 'GetAsyncJobResult polls per asynchronous job', labelNames: ['action'] as const, buckets: [1, 2, 4, 8, 12, 16, 24, 32, 64], registers });
  const rateLimited = new Counter({ name: 'imageseg_rate_limited_total', help: 'Requests refused with 429 RATE_LIMITED', registers });
  const swept = new Counter({
    name: 'imageseg_records_swept_total',
    help: 'Rows deleted by the sweeper by kind (idempotency, jobs, tasks, results); holds: token leases expired and held jobs closed',
    labelNames: ['kind'] as const,
    registers,
  });
  const records = new Gauge({ name: 'imageseg_records', help: 'Rows kept by kind, as of the last sweep (holds: payments held)', labelNames: ['kind'] as const, registers });
  return {
    registry,
    recordProviderCall: (labels) => providerCalls.inc(labels),
    recordFallback: (labels) => fallbacks.inc(labels),
    recordCall({ tool, provider, outcome }, seconds) {
      calls.inc({ tool, provider, outcome });
      duration.observe({ tool, provider }, seconds);
    },
    recordPayment: (labels) => payments.inc(labels),
    recordRevenue: (service, usd) => revenue.inc({ service }, Number(usd)),
    changeOutstanding: (by) => outstanding.inc(by),
    recordProviderRun: (labels, seconds) => providerLatency.observe(labels, seconds),
    recordJobPolls: (action, polls) => jobPolls.observe({ action }, polls),
    recordRateLimited: () => rateLimited.inc(),
    recordSwept: (kind, count) => swept.inc({ kind }, count),
    setRecords: (kind, count) => records.set({ kind }, count),
  };
}
