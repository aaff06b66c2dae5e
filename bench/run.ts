/**
 * `npm run bench`: every row of issue 7, each a ratio against a baseline measured in this same run on this
 * machine. Prints one table and writes it to bench/results/latest.json.
 *
 *   node dist/bench/run.js [--only gateway,throughput,...] [--profile] [--keep]
 *
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
import { measureGatewayLatency } from './rows/gateway-latency.js';
import { measurePaidThroughput } from './rows/paid-throughput.js';
import { measureX402Verification } from './rows/x402-verification.js';
import { measureAsyncDelay } from './rows/async-delay.js';
import { measureLocalModel } from './rows/local-model.js';
import { measureColdStart } from './rows/cold-start.js';
import { measureMemory } from './rows/memory.js';

type Row = { name: string; title: string; run: (workDirectory: string) => Promise<RowResult[]> };

const ROWS: Row[] = [
  { name: 'gateway', title: '1. MCP over HTTP vs direct SDK call', run: measureGatewayLatency },
  { name: 'throughput', title: '2. Paid calls per second', run: measurePaidThroughput },
  { name: 'x402', title: '3. x402 verifications per second', run: measureX402Verification },
  { name: 'async', title: '4. Asynchronous jobs: delay and polls', run: measureAsyncDelay },
  { name: 'local', title: '5. Local model vs @imgly/background-removal-node', run: measureLocalModel },
  { name: 'cold-start', title: '6. stdio cold start', run: measureColdStart },
  { name: 'memory', title: '7. Memory', run: measureMemory },
];

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { only: { type: 'string' }, profile: { type: 'boolean' }, keep: { type: 'boolean' } } });
  profiling.enabled = Boolean(values.profile);
  const only = values.only?.split(',').map((name) => name.trim());
  const selected = only ? ROWS.filter((row) => only.includes(row.name)) : ROWS;
  if (only && selected.length !== only.length) throw new Error(`unknown row in --only; rows are ${ROWS.map((row) => row.name).join(', ')}`);

  const workDirectory = mkdtempSync(path.join(tmpdir(), 'imageseg-bench-'));
  const machine = describeMachine();
  process.stderr.write(`imageseg-mcp bench on ${machine.cpus} × ${machine.cpuModel}, ${machine.memoryGiB} GiB, Node ${machine.node}; work in ${workDirectory}\n`);
  const results: RowResult[] = [];
  const timings: Record<string, number> = {};
  const started = performance.now();
  try {
    for (const row of selected) {
      process.stderr.write(`${row.title} …\n`);
      const rowStarted = performance.now();
      try {
        results.push(...(await row.run(workDirectory)));
      } catch (error) {
        process.stderr.write(`  failed: ${(error as Error).stack ?? String(error)}\n`);
        results.push({ row: row.title.split('.')[0]!, metric: row.title, pending: `failed: ${(error as Error).message.split('\n')[0]}` });
      }
      timings[row.name] = Math.round((performance.now() - rowStarted) / 1000);
      process.stderr.write(`  done in ${timings[row.name]} s\n`);
    }
  } finally {
    if (!values.keep) rmSync(workDirectory, { recursive: true, force: true });
  }
  const table = renderTable(results);
  process.stdout.write(`\n${table}\n\n${renderNotes(results)}\n\n`);
  const file = path.join(RESULTS_DIR, only ? `partial-${selected.map((row) => row.name).join('-')}.json` : 'latest.json');
  writeResults(file, results, { settings: SETTINGS, rowSeconds: timings, totalSeconds: Math.round((performance.now() - started) / 1000), table });
  process.stderr.write(`written to ${path.relative(process.cwd(), file)} (${Math.round((performance.now() - started) / 1000)} s)\n`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  },
);
