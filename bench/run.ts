/**
 * `npm run bench`: every row of issue 7, each a ratio against a baseline measured in this same run on this
 * machine. Prints one table and writes it to bench/results/latest.json.
 *
 *   node dist/bench/run.js [--only gateway,throughput,...] [--repeat N] [--profile] [--keep]
 *
 * --repeat N runs the selected rows N times in a row and prints, besides each run's table, one summary: every
 * metric's median over the runs, its range and how many runs met its target (bench/results/repeats-*.json).
 * --profile runs every server child with --cpu-prof (profiles in bench/results/profiles/); --keep leaves the
 * work directory (ledgers, server logs) in place.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { SETTINGS } from './settings.js';
import { describeMachine, renderNotes, renderTable, writeResults, type RowResult } from './lib/report.js';
import { profiling, RESULTS_DIR } from './lib/processes.js';
import { renderRepeatSummary, summarizeRepeats } from './lib/repeats.js';
import { measureGatewayLatency } from './rows/gateway-latency.js';
import { measurePaidThroughput } from './rows/paid-throughput.js';
import { measureReplicaThroughput } from './rows/replicas-throughput.js';
import { measureX402Verification } from './rows/x402-verification.js';
import { measureAsyncDelay } from './rows/async-delay.js';
import { measureLocalModel } from './rows/local-model.js';
import { measureColdStart } from './rows/cold-start.js';
import { measureMemory } from './rows/memory.js';
import { measureMcpBodiesMemory } from './rows/mcp-bodies-memory.js';
import { measureLocalMemory } from './rows/local-memory.js';

type Row = { name: string; title: string; run: (workDirectory: string) => Promise<RowResult[]> };

const ROWS: Row[] = [
  { name: 'gateway', title: '1. MCP over HTTP vs direct SDK call', run: measureGatewayLatency },
  { name: 'throughput', title: '2. Paid calls per second', run: measurePaidThroughput },
  { name: 'replicas', title: '2a. Paid calls per second, two replicas on PostgreSQL', run: measureReplicaThroughput },
  { name: 'x402', title: '3. x402 verifications per second', run: measureX402Verification },
  { name: 'async', title: '4. Asynchronous jobs: delay and polls', run: measureAsyncDelay },
  { name: 'local', title: '5. Local model vs @imgly/background-removal-node', run: measureLocalModel },
  { name: 'cold-start', title: '6. stdio cold start', run: measureColdStart },
  { name: 'memory', title: '7. Memory', run: measureMemory },
  { name: 'mcp-bodies', title: '7b. Memory: unpaid 50 MB MCP bodies at once', run: measureMcpBodiesMemory },
  { name: 'local-memory', title: '7c. Memory: the embedded model on a 10000x10000 PNG', run: measureLocalMemory },
];

async function runRows(selected: readonly Row[], workDirectory: string, timings: Record<string, number>): Promise<RowResult[]> {
  const results: RowResult[] = [];
  for (const row of selected) {
    process.stderr.write(`${row.title} …\n`);
    const rowStarted = performance.now();
    try {
      results.push(...(await row.run(workDirectory)));
    } catch (error) {
      process.stderr.write(`  failed: ${(error as Error).stack ?? String(error)}\n`);
      results.push({ row: row.title.split('.')[0], metric: row.title, pending: `failed: ${(error as Error).message.split('\n')[0]}` });
    }
    timings[row.name] = (timings[row.name] ?? 0) + Math.round((performance.now() - rowStarted) / 1000);
    process.stderr.write(`  done in ${Math.round((performance.now() - rowStarted) / 1000)} s\n`);
  }
  return results;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { only: { type: 'string' }, repeat: { type: 'string' }, profile: { type: 'boolean' }, keep: { type: 'boolean' } } });
  profiling.enabled = Boolean(values.profile);
  const only = values.only?.split(',').map((name) => name.trim());
  const selected = only ? ROWS.filter((row) => only.includes(row.name)) : ROWS;
  if (only && selected.length !== only.length) throw new Error(`unknown row in --only; rows are ${ROWS.map((row) => row.name).join(', ')}`);
  const repeat = Number(values.repeat ?? 1);
  if (!Number.isInteger(repeat) || repeat < 1) throw new Error('--repeat takes a whole number of runs, 1 or more');

  const workDirectory = mkdtempSync(path.join(tmpdir(), 'imageseg-bench-'));
  const machine = describeMachine();
  process.stderr.write(`imageseg-mcp bench on ${machine.cpus} × ${machine.cpuModel}, ${machine.memoryGiB} GiB, Node ${machine.node}; work in ${workDirectory}\n`);
  const runs: RowResult[][] = [];
  const timings: Record<string, number> = {};
  const started = performance.now();
  try {
    for (let run = 1; run <= repeat; run += 1) {
      if (repeat > 1) process.stderr.write(`run ${run} of ${repeat}\n`);
      const results = await runRows(selected, workDirectory, timings);
      runs.push(results);
      process.stdout.write(`\n${repeat > 1 ? `Run ${run} of ${repeat}\n\n` : ''}${renderTable(results)}\n\n${renderNotes(results)}\n\n`);
    }
  } finally {
    if (!values.keep) rmSync(workDirectory, { recursive: true, force: true });
  }
  const names = selected.map((row) => row.name).join('-');
  const totalSeconds = Math.round((performance.now() - started) / 1000);
  let file: string;
  if (repeat > 1) {
    const summary = renderRepeatSummary(summarizeRepeats(runs));
    process.stdout.write(`Medians of ${repeat} runs (met: in most runs)\n\n${summary}\n\n`);
    file = path.join(RESULTS_DIR, `repeats-${only ? names : 'all'}.json`);
    writeResults(file, runs.flat(), { settings: SETTINGS, repeat, rowSeconds: timings, totalSeconds, table: summary });
  } else {
    file = path.join(RESULTS_DIR, only ? `partial-${names}.json` : 'latest.json');
    writeResults(file, runs[0], { settings: SETTINGS, rowSeconds: timings, totalSeconds, table: renderTable(runs[0]) });
  }
  process.stderr.write(`written to ${path.relative(process.cwd(), file)} (${totalSeconds} s)\n`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  },
);
