/**
 * Row 6: stdio cold start, from spawning `node` to the answer of `initialize`, ours (`node dist/cli.js stdio`, the
 * bundle `npm run build` makes; defaults: embedded provider, payments required) against the reference server
 * (`node .../server-everything/dist/index.js stdio`). Alternating, after a warm-up start of each that fills the OS
 * file cache; then one more start of each, untimed, counts the files it loads before answering.
 *
 * Before the bundle and lazy loading (main at 644839c, 2026-12-02, 9 runs of this row): median 1.62×, 1.34–1.88×;
 * 551 files loaded before `initialize` is answered, the reference 282.
 */
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SETTINGS } from '../settings.js';
import { CLI } from '../lib/processes.js';
import { startStdio } from '../lib/stdio.js';
import { median } from '../lib/stats.js';
import type { RowResult } from '../lib/report.js';

export function referenceServerEntry(): string {
  const require = createRequire(import.meta.url);
  return path.join(path.dirname(require.resolve('@modelcontextprotocol/server-everything/package.json')), 'dist', 'index.js');
}

const COUNTING = ['--import', fileURLToPath(new URL('../lib/module-count-preload.js', import.meta.url))];

/** JavaScript and JSON files the server loads before it answers `initialize` (see module-count-preload). */
async function modulesBeforeInitialize(args: string[], cwd: string, environment: Record<string, string>): Promise<number> {
  const file = path.join(mkdtempSync(path.join(cwd, 'count-')), 'modules');
  const started = await startStdio([...COUNTING, ...args], { cwd, environment: { ...environment, BENCH_MODULE_COUNT_FILE: file } });
  await started.stop();
  return Number(readFileSync(file, 'utf8'));
}

export async function measureColdStart(workDirectory: string): Promise<RowResult[]> {
  const { warmup, runs } = SETTINGS.coldStart;
  const cwd = path.join(workDirectory, 'cold-start');
  mkdirSync(cwd, { recursive: true });
  const ourEnvironment = { DATABASE_URL: path.join(cwd, 'ledger.db') };
  const ours = () => startStdio([CLI, 'stdio'], { cwd, environment: ourEnvironment });
  const reference = () => startStdio([referenceServerEntry(), 'stdio'], { cwd, environment: {} });
  const samples = { ours: [] as number[], reference: [] as number[] };
  for (let index = 0; index < warmup + runs; index += 1) {
    const order: Array<['ours' | 'reference', typeof ours]> = index % 2 === 0 ? [['ours', ours], ['reference', reference]] : [['reference', reference], ['ours', ours]];
    for (const [name, start] of order) {
      const started = await start();
      await started.stop();
      if (index >= warmup) samples[name].push(started.ms);
    }
  }
  const [ourMs, referenceMs] = [median(samples.ours), median(samples.reference)];
  const modules = { ours: await modulesBeforeInitialize([CLI, 'stdio'], cwd, ourEnvironment), reference: await modulesBeforeInitialize([referenceServerEntry(), 'stdio'], cwd, {}) };
  return [
    {
      row: '6',
      metric: 'stdio cold start → initialize answered (median)',
      ours: ourMs,
      unit: 'ms',
      baseline: { label: 'server-everything', value: referenceMs },
      ratio: ourMs / referenceMs,
      target: { text: '≤ 0.75×', met: ourMs / referenceMs <= 0.75 },
      note:
        `${runs} starts each after ${warmup} warm-up, alternating; ours ${samples.ours.map(Math.round).join('/')} ms, reference ${samples.reference.map(Math.round).join('/')} ms; ` +
        `files loaded before initialize: ours ${modules.ours}, reference ${modules.reference}; before the bundle (2026-12-02): 1.62× (1.34–1.88, 9 runs), 551 files`,
    },
  ];
}
