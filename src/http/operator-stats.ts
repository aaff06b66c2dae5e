import type { Express } from 'express';
import type { Metrics } from '../metrics.js';
import type { AppContext } from '../app.js';
import { toAppError } from '../errors.js';
import { sendError } from './errors.js';
import { requireOperator } from './operator-auth.js';

export interface OutcomeCount {
  outcome: string;
  count: number;
}

export interface Tally {
  calls: number;
  ok: number;
  failed: number;
  /** Every outcome other than ok (an error code, skipped, circuit_open), most frequent first. */
  outcomes: OutcomeCount[];
}

/** GET /api/admin/stats: this process's counters from the registry /metrics reads, grouped for people. */
export interface OperatorStats {
  /** When this process started: the counters count from there, per replica, as /metrics does. */
  since: string;
  /** imageseg_calls_total by tool. */
  byTool: Array<{ tool: string } & Tally>;
  /**
   * Each provider's runs: imageseg_provider_duration_seconds_count where one provider served the tool alone, plus
   * imageseg_provider_calls_total for each member of a fallback chain (`skipped` and `circuit_open` are not runs).
   */
  byProvider: Array<{ provider: string; skipped: number } & Tally>;
  /** imageseg_provider_fallbacks_total: calls passed on from `provider`, and why. */
  fallbacks: Array<{ tool: string; provider: string; reason: string; count: number }>;
  /** imageseg_revenue_usd_total by service (the ledger's report is GET /api/admin/revenue). */
  revenue: Array<{ service: string; usd: number }>;
}

type Labels = Record<string, string | number | undefined>;
type Sample = { labels: Labels; value: number; metricName?: string };

async function samplesOf(registry: Metrics['registry'], name: string, metricName = name): Promise<Sample[]> {
  const metric = registry.getSingleMetric(name);
  if (!metric) return [];
  const { values } = (await metric.get()) as { values: Sample[] };
  return values.filter((sample) => (sample.metricName ?? name) === metricName && sample.value > 0);
}

const label = (sample: Sample, name: string) => String(sample.labels[name] ?? '');

const NOT_RUNS = new Set(['skipped', 'circuit_open']);

/** Adds counts up by key into tallies: runs (ok and failed), skips, and every outcome other than ok. */
function tally(samples: Array<{ key: string; outcome: string; count: number }>): Array<{ key: string; skipped: number } & Tally> {
  const tallies = new Map<string, { calls: number; ok: number; failed: number; skipped: number; byOutcome: Map<string, number> }>();
  for (const { key, outcome, count } of samples) {
    const entry = tallies.get(key) ?? { calls: 0, ok: 0, failed: 0, skipped: 0, byOutcome: new Map<string, number>() };
    if (NOT_RUNS.has(outcome)) entry.skipped += count;
    else {
      entry.calls += count;
      if (outcome === 'ok') entry.ok += count;
      else entry.failed += count;
    }
    if (outcome !== 'ok') entry.byOutcome.set(outcome, (entry.byOutcome.get(outcome) ?? 0) + count);
    tallies.set(key, entry);
  }
  return [...tallies.entries()]
    .map(([key, { byOutcome, ...entry }]) => ({ key, ...entry, outcomes: [...byOutcome.entries()].map(([outcome, count]) => ({ outcome, count })).sort((a, b) => b.count - a.count) }))
    .sort((a, b) => b.calls - a.calls || a.key.localeCompare(b.key));
}

/** `toolOfAction`: the catalog's Action -> tool name (provider run times are labelled by Action, attempts by tool). */
export async function operatorStats(registry: Metrics['registry'], startedAt: number, toolOfAction: ReadonlyMap<string, string>): Promise<OperatorStats> {
  const [calls, runs, attempts, fallbacks, revenue] = await Promise.all([
    samplesOf(registry, 'imageseg_calls_total'),
    samplesOf(registry, 'imageseg_provider_duration_seconds', 'imageseg_provider_duration_seconds_count'),
    samplesOf(registry, 'imageseg_provider_calls_total'),
    samplesOf(registry, 'imageseg_provider_fallbacks_total'),
    samplesOf(registry, 'imageseg_revenue_usd_total'),
  ]);
  const byTool = tally(calls.map((sample) => ({ key: label(sample, 'tool'), outcome: label(sample, 'outcome'), count: sample.value }))).map(({ key, skipped: _skipped, ...entry }) => ({ tool: key, ...entry }));
  // A fallback chain's run is labelled with all its members ("ailabtools,alibaba"), or with its one member: where a
  // chain served the tool, its members' attempts count instead of the chain's runs.
  const chained = new Set(attempts.map((sample) => `${label(sample, 'tool')} ${label(sample, 'provider')}`));
  const direct = runs.filter((sample) => {
    const provider = label(sample, 'provider');
    return !provider.includes(',') && !chained.has(`${toolOfAction.get(label(sample, 'action')) ?? ''} ${provider}`);
  });
  const providerSamples = [
    ...direct.map((sample) => ({ key: label(sample, 'provider'), outcome: label(sample, 'outcome'), count: sample.value })),
    ...attempts.map((sample) => ({ key: label(sample, 'provider'), outcome: label(sample, 'outcome'), count: sample.value })),
  ];
  return {
    since: new Date(startedAt).toISOString(),
    byTool,
    byProvider: tally(providerSamples).map(({ key, ...entry }) => ({ provider: key, ...entry })),
    fallbacks: fallbacks.map((sample) => ({ tool: label(sample, 'tool'), provider: label(sample, 'provider'), reason: label(sample, 'reason'), count: sample.value })),
    revenue: revenue.map((sample) => ({ service: label(sample, 'service'), usd: Number(sample.value.toFixed(6)) })),
  };
}

/** GET /api/admin/stats (operator): calls and failures by tool and provider, as /metrics counts them. */
export function mountOperatorStats(app: Express, context: AppContext): void {
  const startedAt = Date.now() - Math.round(process.uptime() * 1000);
  const toolOfAction = new Map(context.catalog.capabilities.map((capability) => [capability.action, capability.tool]));
  app.get('/api/admin/stats', requireOperator(context), (_request, response) => {
    operatorStats(context.metrics.registry, startedAt, toolOfAction).then(
      (stats) => response.set('Cache-Control', 'no-store').json(stats),
      (error: unknown) => sendError(response, toAppError(error)),
    );
  });
}
