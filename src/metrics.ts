import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Prometheus metrics of one process: calls by tool, provider and outcome, and how long they took. */
export interface Metrics {
  registry: Registry;
  recordCall(labels: { tool: string; provider: string; outcome: string }, seconds: number): void;
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
  return {
    registry,
    recordCall({ tool, provider, outcome }, seconds) {
      calls.inc({ tool, provider, outcome });
      duration.observe({ tool, provider }, seconds);
    },
  };
}
