/**
 * Row 7: memory. Peak RSS of our HTTP server (child process) while it serves the largest input any Action
 * accepts (hd-general-segmentation: 40 MB; a PNG of noise just under it, by URL from the emulator, which is how
 * Alibaba-bound images arrive), as growth over the RSS just before the call, divided by the input size. The peak
 * is the kernel's high-water mark (VmHWM, reset before the call through /proc/<pid>/clear_refs), with 25 ms
 * samples as a fallback. Idle RSS: ours and the reference server, both over stdio after `initialize`.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { startAlibabaEmulator } from '../../test/emulator/index.js';
import { emulatorEnvironment } from '../../test/support/server.js';
import { capabilities } from '../../tools/index.js';
import { SETTINGS } from '../settings.js';
import { largestPng, productPhoto } from '../lib/images.js';
import { CLI, peakRssOf, resetPeak, rssOf, sleep, startServer } from '../lib/processes.js';
import { startStdio } from '../lib/stdio.js';
import { referenceServerEntry } from './cold-start.js';
import type { RowResult } from '../lib/report.js';

const MB = 1024 * 1024;

async function idleStdioRss(args: string[], cwd: string, environment: Record<string, string>): Promise<number> {
  const started = await startStdio(args, { cwd, environment });
  try {
    await sleep(SETTINGS.memory.settleMs);
    return rssOf(started.child.pid!);
  } finally {
    await started.stop();
  }
}

export async function measureMemory(workDirectory: string): Promise<RowResult[]> {
  const directory = path.join(workDirectory, 'memory');
  const largest = capabilities
    .flatMap((capability) => Object.entries(capability.images).map(([field, limits]) => ({ capability, field, limits: limits! })))
    .sort((a, b) => b.limits.maxBytes - a.limits.maxBytes)[0];
  const emulator = await startAlibabaEmulator({ jobTimings: { queuingMs: 0, processingMs: 0 }, downloadTimeoutMs: 120_000 });
  const server = await startServer({
    name: 'memory',
    workDirectory: directory,
    environment: {
      ...emulatorEnvironment(emulator),
      IMAGESEG_JOB_DEADLINE_SECONDS: '300',
      PAYMENTS: 'off',
      DATABASE_URL: path.join(directory, 'ledger.db'),
    },
  });
  try {
    await sleep(SETTINGS.memory.settleMs);
    const httpIdle = server.rss();
    const call = async (imageUrl: string) => {
      const response = await fetch(`${server.url}/api/tools/${largest.capability.serviceId}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ [largest.field]: imageUrl, deliver: 'url' }),
      });
      const body = await response.text();
      if (!response.ok) throw new Error(`${largest.capability.serviceId} failed: ${body.slice(0, 300)}`);
    };
    // A small call first loads what every call needs (SDK, sharp), so the big call's growth is about its input.
    await call(emulator.hostImage(await productPhoto(640, 480), 'image/jpeg'));
    const { png } = await largestPng(largest.limits.maxBytes);
    const bigUrl = emulator.hostImage(png, 'image/png');
    await sleep(SETTINGS.memory.settleMs);
    const before = server.rss();
    const pid = server.child.pid!;
    const exactPeak = resetPeak(pid);
    let sampled = before;
    const sampler = setInterval(() => {
      sampled = Math.max(sampled, rssOf(pid));
    }, SETTINGS.memory.sampleMs);
    try {
      await call(bigUrl);
    } finally {
      clearInterval(sampler);
    }
    const peak = exactPeak ? peakRssOf(pid) : sampled;
    const growth = Math.max(0, peak - before);

    const cwd = path.join(directory, 'stdio');
    mkdirSync(cwd, { recursive: true });
    const oursIdle = await idleStdioRss([CLI, 'stdio'], cwd, { DATABASE_URL: path.join(cwd, 'ledger.db') });
    const referenceIdle = await idleStdioRss([referenceServerEntry(), 'stdio'], cwd, {});
    return [
      {
        row: '7',
        metric: `peak RSS growth ÷ input, ${(png.length / MB).toFixed(1)} MB PNG (largest accepted)`,
        ours: growth / png.length,
        unit: '×',
        target: { text: '≤ 3×', met: growth / png.length <= 3 },
        note:
          `${largest.capability.tool} ${largest.field} by URL; RSS ${(before / MB).toFixed(0)} MB before, peak ${(peak / MB).toFixed(0)} MB ` +
          `(${exactPeak ? 'VmHWM' : `${SETTINGS.memory.sampleMs} ms samples`}); peak ÷ input ${(peak / png.length).toFixed(2)}×; ${png.length} bytes`,
      },
      {
        row: '7',
        metric: 'idle RSS, stdio after initialize',
        ours: oursIdle / MB,
        unit: 'MB',
        baseline: { label: 'server-everything', value: referenceIdle / MB },
        ratio: oursIdle / referenceIdle,
        target: { text: '≤ 100 MB', met: oursIdle / MB <= 100 },
      },
      {
        row: '7',
        metric: '  idle RSS, HTTP server after start',
        ours: httpIdle / MB,
        unit: 'MB',
        baseline: { label: 'server-everything (stdio)', value: referenceIdle / MB },
        ratio: httpIdle / referenceIdle,
        target: { text: '≤ 100 MB', met: httpIdle / MB <= 100 },
      },
    ];
  } finally {
    await server.stop();
    await emulator.close();
  }
}
