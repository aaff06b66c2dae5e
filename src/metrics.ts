import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Prometheus metrics of one process: calls by tool, provider and outcome, and how long they took. */
export interface Metrics {
  registry: Registry;
  recordCall(labels: { tool: string; provider: string; outcome: string }, seconds: number): void;
  /** One provider's attempt inside a call (ok, an error code, skipped or circuit_open). */
  recordProviderCall(labels: { tool: string; provider: string; outcome: string }): void;
  /** A call passed on from `provider` to the next one in the order, and why. */
  recordFallback(labels: { tool: string; provider: string; reason: string }): void;
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const calls = new Counter({
    name: 'imageseg_calls_total',
    help: 'Tool calls by tool, provider and outcome (ok or an error code)',
    labelNames: ['tool', 'provider', 'outcome'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'imageseg_call_duration_seconds',
    help: 'Tool call duration, payment to answer',
    labelNames: ['tool', 'provider'] as const,
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 120],
    registers: [registry],
  });
  const providerCalls = new Counter({
    name: 'imageseg_provider_calls_total',
    help: 'Attempts at each provider by tool, provider and outcome (ok, an error code, skipped, circuit_open)',
    labelNames: ['tool', 'provider', 'outcome'] as const,
    registers: [registry],
  });
  const fallbacks = new Counter({
    name: 'imageseg_provider_fallbacks_total',
    help: 'Calls passed on to the next provider, by tool, the provider passed over and why',
    labelNames: ['tool', 'provider', 'reason'] as const,
    registers: [registry],
  });
  return {
    registry,
    recordProviderCall: (labels) => providerCalls.inc(labels),
    recordFallback: (labels) => fallbacks.inc(labels),
    recordCall({ tool, provider, outcome }, seconds) {
      calls.inc({ tool, provider, outcome });
      duration.observe({ tool, provider }, seconds);
    },
  };
}
