import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** One line of the table: our number, the baseline measured beside it, their ratio and the target. */
export interface Measurement {
  row: string;
  metric: string;
  ours: number;
  unit: string;
  baseline?: { label: string; value: number };
  /** ours ÷ baseline unless the row says otherwise (e.g. growth ÷ input size). */
  ratio?: number;
  target?: { text: string; met: boolean };
  note?: string;
}

/** A row that could not run (e.g. its dependency is missing) still shows up, saying why. */
export interface Pending {
  row: string;
  metric: string;
  pending: string;
}

export type RowResult = Measurement | Pending;

export const isPending = (result: RowResult): result is Pending => 'pending' in result;

function formatNumber(value: number, unit: string): string {
  if (!Number.isFinite(value)) return String(value);
  const abs = Math.abs(value);
  const digits = abs >= 100 ? 0 : abs >= 10 ? 1 : abs >= 1 ? 2 : 3;
  const text = value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: 0 });
  return unit ? `${text} ${unit}` : text;
}

export function formatRatio(ratio: number | undefined): string {
  if (ratio === undefined || !Number.isFinite(ratio)) return '';
  return `${ratio.toFixed(ratio >= 10 ? 1 : 2)}×`;
}

/** A Markdown table (readable in a terminal, pasteable into README). */
export function renderTable(results: readonly RowResult[]): string {
  const header = ['#', 'metric', 'ours', 'baseline (same run)', 'ratio', 'target', ''];
  const lines = results.map((result) => {
    if (isPending(result)) return [result.row, result.metric, '—', '—', '—', '', `pending: ${result.pending}`];
    const baseline = result.baseline ? `${result.baseline.label}: ${formatNumber(result.baseline.value, result.unit)}` : '';
    const verdict = result.target ? (result.target.met ? 'met' : 'MISSED') : '';
    return [result.row, result.metric, formatNumber(result.ours, result.unit), baseline, formatRatio(result.ratio), result.target?.text ?? '', verdict];
  });
  const widths = header.map((title, column) => Math.max(title.length, ...lines.map((line) => line[column].length)));
  const format = (cells: string[]) => `| ${cells.map((cell, column) => cell.padEnd(widths[column])).join(' | ')} |`;
  return [format(header), format(widths.map((width) => '-'.repeat(width))), ...lines.map(format)].join('\n');
}

/** The notes of the rows that have one: how each was measured, and what else was seen. */
export function renderNotes(results: readonly RowResult[]): string {
  return results
    .filter((result): result is Measurement => !isPending(result) && Boolean(result.note))
    .map((result) => `- ${result.row} ${result.metric.trim()}: ${result.note}`)
    .join('\n');
}

export function describeMachine() {
  const cpus = os.cpus();
  return {
    cpus: os.availableParallelism(),
    cpuModel: cpus[0]?.model ?? 'unknown',
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
  };
}

export function writeResults(file: string, results: readonly RowResult[], extra: Record<string, unknown>): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const document = { date: new Date().toISOString(), machine: describeMachine(), ...extra, results };
  writeFileSync(file, `${JSON.stringify(document, null, 2)}\n`);
}
