/**
 * Row 6: stdio cold start, from spawning `node` to the answer of `initialize`, ours (`node dist/cli.js stdio`,
 * defaults: embedded provider, payments required) against the reference server
 * (`node .../server-everything/dist/index.js stdio`). Alternating, after a warm-up start of each that fills the OS
 * file cache.
 */
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { SETTINGS } from '../settings.js';
import { CLI } from '../lib/processes.js';
import { startStdio } from '../lib/stdio.js';
import { median } from '../lib/stats.js';
import type { RowResult } from '../lib/report.js';

export function referenceServerEntry(): string {
  const require = createRequire(import.meta.url);
  return path.join(path.dirname(require.resolve('@modelcontextprotocol/server-everything/package.json')), 'dist', 'index.js');
}

export async function measureColdStart(workDirectory: string): Promise<RowResult[]> {
  const { warmup, runs } = SETTINGS.coldStart;
  const cwd = path.join(workDirectory, 'cold-start');
  mkdirSync(cwd, { recursive: true });
  const ours = () => startStdio([CLI, 'stdio'], { cwd, environment: { DATABASE_URL: path.join(cwd, 'ledger.db') } });
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
  return [
    {
      row: '6',
      metric: 'stdio cold start → initialize answered (median)',
      ours: ourMs,
      unit: 'ms',
      baseline: { label: 'server-everything', value: referenceMs },
      ratio: ourMs / referenceMs,
      target: { text: '≤ 0.75×', met: ourMs / referenceMs <= 0.75 },
      note: `${runs} starts each after ${warmup} warm-up, alternating; ours ${samples.ours.map(Math.round).join('/')} ms, reference ${samples.reference.map(Math.round).join('/')} ms`,
    },
  ];
}
