/**
 * Row 7c: memory of the embedded model, the way an operator on a small machine meets it. One local call on the
 * largest image any Action takes (a 10000 x 10000 PNG to hd-general-segmentation, as a raw body), served by a fresh
 * `node dist/cli.js http` with the model files already cached by an earlier server (one-time conversions excluded):
 * the peak RSS of the server and its children together (each one's VmHWM; the server's reset just before the call),
 * then their RSS 3 minutes later, past the default IMAGESEG_LOCAL_IDLE_SECONDS. Then one more small call: how long a
 * call takes that has to start the model again. "Before" is this row run on main at 97169ce (the model in the server's
 * own process, kept for good).
 */
import path from 'node:path';
import { discOnWhite } from '../../test/support/images.js';
import { resetPeaks, treeMegabytes } from '../../test/support/processes.js';
import { SETTINGS } from '../settings.js';
import { sleep, startServer, type ServerProcess } from '../lib/processes.js';
import type { RowResult } from '../lib/report.js';

/** This row on main at 97169ce, 3 runs alternated with the change (2026-12-07): medians and ranges. */
const BEFORE = { peak: '1,733 MB (1,711–1,735)', idle: '1,143 MB (1,120–1,146)' };

async function segment(server: ServerProcess, png: Buffer, route = 'hd-general-segmentation'): Promise<number> {
  const started = performance.now();
  const response = await fetch(`${server.url}/api/tools/${route}`, { method: 'POST', headers: { 'content-type': 'image/png' }, body: new Uint8Array(png) });
  const body = await response.text();
  if (!response.ok) throw new Error(`${route} failed: ${body.slice(0, 300)}`);
  return performance.now() - started;
}

export async function measureLocalMemory(workDirectory: string): Promise<RowResult[]> {
  const directory = path.join(workDirectory, 'local-memory');
  const environment = { IMAGESEG_PROVIDER: 'local', PAYMENTS: 'off', DATABASE_URL: path.join(directory, 'ledger.db') };
  const small = await discOnWhite(1000, 750);
  // An earlier server converts and caches the model files, as the first start after an install does.
  const warming = await startServer({ name: 'local-memory-warm-up', workDirectory: directory, environment });
  try {
    await segment(warming, small);
  } finally {
    await warming.stop();
  }

  const { side, idleAfterMs } = SETTINGS.localMemory;
  const png = await discOnWhite(side, side);
  const server = await startServer({ name: 'local-memory', workDirectory: directory, environment });
  try {
    const pid = server.child.pid!;
    const idleBefore = treeMegabytes(pid, 'VmRSS');
    resetPeaks(pid);
    let sampled = 0;
    const sampler = setInterval(() => (sampled = Math.max(sampled, treeMegabytes(pid, 'VmRSS'))), 25);
    let callMs: number;
    try {
      callMs = await segment(server, png);
    } finally {
      clearInterval(sampler);
    }
    const peak = treeMegabytes(pid, 'VmHWM');
    await sleep(idleAfterMs);
    const idle = treeMegabytes(pid, 'VmRSS');
    const reloadMs = await segment(server, small);
    const warmMs = await segment(server, small);
    return [
      {
        row: '7c',
        metric: `peak RSS, server + its processes, one local call on a ${side}x${side} PNG`,
        ours: peak,
        unit: 'MB',
        target: { text: '≤ 1 GB', met: peak <= 1024 },
        note:
          `${(png.length / 1024).toFixed(0)} KB PNG as a raw body, fresh server, model files cached; the sum of each process's VmHWM ` +
          `(${sampled.toFixed(0)} MB sampled every 25 ms); server at start ${idleBefore.toFixed(0)} MB; the call took ${(callMs / 1000).toFixed(1)} s; ` +
          `before (main at 97169ce): ${BEFORE.peak}`,
      },
      {
        row: '7c',
        metric: `  idle RSS, ${idleAfterMs / 60_000} minutes after that call`,
        ours: idle,
        unit: 'MB',
        target: { text: '≤ 300 MB', met: idle <= 300 },
        note: `IMAGESEG_LOCAL_IDLE_SECONDS at its default; the next call (${small.length} bytes, 1000x750) took ${Math.round(reloadMs)} ms starting the model again, the one after it ${Math.round(warmMs)} ms; before: ${BEFORE.idle}`,
      },
    ];
  } finally {
    await server.stop();
  }
}
