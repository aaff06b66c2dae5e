/**
 * `--repeat N`: the same rows run N times in one sitting; each metric is summarised as the median of its N values
 * with their range, and how many of the N runs met its target (each run judged its own target).
 */
import { isPending, renderTable, type Measurement, type RowResult } from './report.js';
import { median } from './stats.js';

const range = (values: readonly number[], format: (value: number) => string) =>
  `${format(Math.min(...values))}–${format(Math.max(...values))}`;

const formatPlain = (value: number) =>
  value.toLocaleString('en-US', { maximumFractionDigits: Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : 2 });

/** One Measurement per metric, its numbers the medians of the runs; the spread and the verdicts go in its note. */
export function summarizeRepeats(runs: readonly RowResult[][]): RowResult[] {
  const byMetric = new Map<string, RowResult[]>();
  for (const run of runs) {
    // A row may print the same label twice (e.g. "same, p99" under two lines): the n-th one pairs with the n-th.
    const seen = new Map<string, number>();
    for (const result of run) {
      const label = `${result.row}\u0000${result.metric}`;
      const occurrence = (seen.get(label) ?? 0) + 1;
      seen.set(label, occurrence);
      const key = `${label}\u0000${occurrence}`;
      byMetric.set(key, [...(byMetric.get(key) ?? []), result]);
    }
  }
  return [...byMetric.values()].map((results) => {
    const measured = results.filter((result): result is Measurement => !isPending(result));
    const first = results[0];
    if (measured.length === 0) return first;
    const ours = measured.map((result) => result.ours);
    const ratios = measured.flatMap((result) => (result.ratio !== undefined && Number.isFinite(result.ratio) ? [result.ratio] : []));
    const baselines = measured.flatMap((result) => (result.baseline ? [result.baseline.value] : []));
    const judged = measured.filter((result) => result.target);
    const template = measured[0];
    const spreads = [
      `${measured.length} of ${runs.length} runs; ours ${range(ours, formatPlain)} ${template.unit}`.trimEnd(),
      ...(ratios.length > 0 ? [`ratio ${range(ratios, (value) => value.toFixed(2))}`] : []),
      ...(judged.length > 0 ? [`target met in ${judged.filter((result) => result.target!.met).length} of ${judged.length}`] : []),
    ];
    const metTimes = judged.filter((result) => result.target!.met).length;
    return {
      row: template.row,
      metric: template.metric,
      ours: median(ours),
      unit: template.unit,
      ...(template.baseline && baselines.length > 0 ? { baseline: { label: template.baseline.label, value: median(baselines) } } : {}),
      ...(ratios.length > 0 ? { ratio: median(ratios) } : {}),
      ...(template.target ? { target: { text: template.target.text, met: metTimes * 2 > judged.length } } : {}),
      note: spreads.join('; '),
    };
  });
}

/** The summary table, with a column for each metric's spread over the runs. */
export function renderRepeatSummary(summary: readonly RowResult[]): string {
  const table = renderTable(summary).split('\n');
  const spreads = summary.map((result) => (isPending(result) ? '' : (result.note ?? '')));
  const width = Math.max('over the runs'.length, ...spreads.map((text) => text.length));
  return table
    .map((line, index) => {
      const cell = index === 0 ? 'over the runs' : index === 1 ? '-'.repeat(width) : spreads[index - 2];
      return `${line} ${cell.padEnd(width)} |`;
    })
    .join('\n');
}
