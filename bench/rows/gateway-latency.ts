/**
 * Row 1: paid calls through our server to the loopback Alibaba emulator, against the same Action called directly
 * with the Alibaba SDK: MCP tools/call over streamable HTTP in both protocol generations (2026-07-28 with the v2
 * client, 2025-11-25 with the v1 client) and REST POST /api/tools/<id>. All run in this process
 * against the same emulator and image; our server is a child process (`node dist/cli.js http`), as deployed.
 * The samplers alternate call by call (the order rotates), so a slow stretch of the shared machine hits all of them.
 * Two images: a small one, where the upstream answers in a few ms and our overhead shows as a ratio, and a textured
 * 1000x800 JPEG (realistic size), where the upstream takes tens of ms and the overhead is reported in ms.
 */
import path from 'node:path';
import { startAlibabaEmulator } from '../../test/emulator/index.js';
import { emulatorEnvironment } from '../../test/support/server.js';
import { SETTINGS } from '../settings.js';
import { productPhoto, texturedProductPhoto } from '../lib/images.js';
import { mintTokens } from '../lib/ledger.js';
import { connectMcp2025, connectMcp2026, type McpHttpClient } from '../lib/mcp-client.js';
import { startServer } from '../lib/processes.js';
import { createSdkCaller } from '../lib/sdk.js';
import { median, percentile, timed } from '../lib/stats.js';
import type { RowResult } from '../lib/report.js';

const TOOL = 'product_background_removal';
const SERVICE = 'product-background-removal';

type Call = () => Promise<unknown>;
/** One timed call: its time in ms. */
type Sampler = () => Promise<number>;
const clocked = (call: Call): Sampler => async () => (await timed(call)).ms;
/** Per sampler, per run, the call times in ms. */
type Samples = Record<string, number[][]>;

interface Counts {
  warmup: number;
  runs: number;
  callsPerRun: number;
}

/** Runs the samplers in turn, the order rotated every call; returns per-run samples of each (index i: one round). */
async function alternate(samplers: Record<string, Sampler>, { warmup, runs, callsPerRun }: Counts = SETTINGS.gateway): Promise<Samples> {
  const names = Object.keys(samplers);
  for (let index = 0; index < warmup; index += 1) for (const name of names) await samplers[name]();
  const samples: Samples = Object.fromEntries(names.map((name) => [name, []]));
  for (let run = 0; run < runs; run += 1) {
    const thisRun: Record<string, number[]> = Object.fromEntries(names.map((name) => [name, []]));
    for (let index = 0; index < callsPerRun; index += 1) {
      for (let turn = 0; turn < names.length; turn += 1) {
        const name = names[(index + turn) % names.length];
        thisRun[name].push(await samplers[name]());
      }
    }
    for (const name of names) samples[name].push(thisRun[name]);
  }
  return samples;
}

/** p50: the median over runs of each run's median; p99 over all samples. */
const p50 = (runs: number[][]) => median(runs.map((run) => median(run)));
const p99 = (runs: number[][]) => percentile(runs.flat(), 99);
/** The median over runs of each run's ratio, and of each run's difference, of ours against the baseline. */
const runRatio = (ours: number[][], baseline: number[][]) => median(ours.map((run, index) => median(run) / median(baseline[index])));
/** The median over runs of each run's difference of medians. */
const runOverhead = (ours: number[][], baseline: number[][]) => median(ours.map((run, index) => median(run) - median(baseline[index])));

export async function measureGatewayLatency(workDirectory: string): Promise<RowResult[]> {
  const { warmup, runs, callsPerRun, smallImage, texturedImage, smallRatioTarget, texturedOverheadTargetMs, mcp2026OverRestTargetMs } = SETTINGS.gateway;
  const emulator = await startAlibabaEmulator();
  const databaseUrl = path.join(workDirectory, 'gateway', 'ledger.db');
  // MCP 2026, MCP 2025 and REST on the small image, and MCP 2025 inline; the same three on the textured one.
  const { textured: texturedCounts } = SETTINGS.gateway;
  const tokens = await mintTokens(databaseUrl, SERVICE, 4 * (warmup + runs * callsPerRun) + 3 * (texturedCounts.warmup + texturedCounts.runs * texturedCounts.callsPerRun));
  const server = await startServer({
    name: 'gateway',
    workDirectory: path.join(workDirectory, 'gateway'),
    environment: {
      ...emulatorEnvironment(emulator),
      PAYMENTS: 'required',
      DATABASE_URL: databaseUrl,
    },
  });
  const clients: McpHttpClient[] = [];
  const sdk = createSdkCaller(emulator);
  try {
    const [mcp2026, mcp2025] = [await connectMcp2026(server.url), await connectMcp2025(server.url)];
    clients.push(mcp2026, mcp2025);
    const smallUrl = emulator.hostImage(await productPhoto(smallImage.width, smallImage.height), 'image/jpeg');
    const texturedJpeg = await texturedProductPhoto(texturedImage.width, texturedImage.height);
    const texturedUrl = emulator.hostImage(texturedJpeg, 'image/jpeg');
    const sdkCall = (imageUrl: string) => async () => {
      const body = await sdk('SegmentCommodity', { ImageURL: imageUrl });
      const url = (body.Data as { ImageURL?: string } | undefined)?.ImageURL;
      if (!url) throw new Error(`SDK call returned no Data.ImageURL: ${JSON.stringify(body).slice(0, 200)}`);
      return url;
    };
    const sdkAndDownload = (imageUrl: string) => async () => {
      const response = await fetch(await sdkCall(imageUrl)());
      await response.arrayBuffer();
    };
    const mcpCall = (mcp: McpHttpClient, imageUrl: string, deliver?: 'url') => () => mcp.call(TOOL, { ImageURL: imageUrl, paymentToken: tokens.pop()!, ...(deliver ? { deliver } : {}) });
    const restCall = (imageUrl: string) => async () => {
      const response = await fetch(`${server.url}/api/tools/${SERVICE}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-payment-token': tokens.pop()! },
        body: JSON.stringify({ ImageURL: imageUrl }),
      });
      const text = await response.text();
      if (response.status !== 200) throw new Error(`REST call answered ${response.status}: ${text.slice(0, 300)}`);
    };

    // The same work on every side: the answer carries the result image's URL (MCP deliver=url; REST's default).
    const small = await alternate({
      mcp2026: clocked(mcpCall(mcp2026, smallUrl, 'url')),
      mcp2025: clocked(mcpCall(mcp2025, smallUrl, 'url')),
      rest: clocked(restCall(smallUrl)),
      sdk: clocked(sdkCall(smallUrl)),
    });
    // On the textured image the emulator's own time (a real decode and cutout, ~100-800 ms on this shared machine)
    // varies far more than the few ms we add: each sample is the call's time less the time the emulator took to
    // answer that very call, so what is compared is everything but the upstream, on both sides.
    const netOfUpstream = (call: Call): Sampler => async () => {
      const total = (await timed(call)).ms;
      const last = emulator.calls.at(-1);
      if (last?.action !== 'SegmentCommodity' || last.ms === undefined) throw new Error('the emulator recorded no SegmentCommodity call');
      const upstream = last.ms;
      return total - upstream;
    };
    const textured = await alternate(
      {
        mcp2026: netOfUpstream(mcpCall(mcp2026, texturedUrl, 'url')),
        mcp2025: netOfUpstream(mcpCall(mcp2025, texturedUrl, 'url')),
        rest: netOfUpstream(restCall(texturedUrl)),
        sdk: netOfUpstream(sdkCall(texturedUrl)),
      },
      SETTINGS.gateway.textured,
    );
    // MCP's default delivery embeds the result image; the direct integrator then downloads it too.
    const inline = await alternate({ mcp: clocked(mcpCall(mcp2025, smallUrl)), sdk: clocked(sdkAndDownload(smallUrl)) });

    const results: RowResult[] = [];
    const line = (metric: string, ours: number, baseline: { label: string; value: number }, ratio?: number, target?: { text: string; met: boolean }, note?: string) =>
      results.push({ row: '1', metric, ours, unit: 'ms', baseline, ...(ratio !== undefined ? { ratio } : {}), ...(target ? { target } : {}), ...(note ? { note } : {}) });
    const sides = [
      ['mcp2026', `paid MCP ${mcp2026.protocolVersion} tools/call (deliver=url)`],
      ['mcp2025', `paid MCP ${mcp2025.protocolVersion} tools/call (deliver=url)`],
      ['rest', 'paid REST POST /api/tools'],
    ] as const;
    const smallNote = `small image: ${runs} runs × ${callsPerRun} calls per side after ${warmup} warm-up; textured: ${texturedCounts.runs} × ${texturedCounts.callsPerRun} after ${texturedCounts.warmup}; interleaved; MCP 2026-07-28 with the v2 client (@modelcontextprotocol/client, pinned and checked), MCP 2025-11-25 with the v1 client (@modelcontextprotocol/sdk); SegmentCommodity on a ${smallImage.width}x${smallImage.height} JPEG and on a textured ${texturedImage.width}x${texturedImage.height} JPEG (${Math.round(texturedJpeg.length / 1024)} KB), both hosted by the emulator (passthrough URLs); one-use payment tokens; server: node dist/cli.js http. Before issue 17's gateway changes (2026-12-02, main 644839c, median of 3 runs): MCP (then 2025-11-25 only) 2.70×, REST 2.34×, textured +42.9 / +27.4 ms (bench/README.md)`;
    for (const [side, label] of sides) {
      const ratio = runRatio(small[side], small.sdk);
      line(`${label} → emulator, small image, p50`, p50(small[side]), { label: 'SDK callApi', value: p50(small.sdk) }, ratio, { text: `≤ ${smallRatioTarget}×`, met: ratio <= smallRatioTarget }, side === 'mcp2026' ? smallNote : undefined);
      line('  same, p99', p99(small[side]), { label: 'SDK callApi', value: p99(small.sdk) }, p99(small[side]) / p99(small.sdk));
    }
    // What MCP adds over REST for the same paid call: the protocol layer alone (issue 23's target is on 2026-07-28).
    for (const [side, mcp] of [['mcp2026', mcp2026], ['mcp2025', mcp2025]] as const) {
      const overRest = runOverhead(small[side], small.rest);
      const target = mcp === mcp2026 ? { text: `≤ ${mcp2026OverRestTargetMs} ms`, met: overRest <= mcp2026OverRestTargetMs } : undefined;
      line(`paid MCP ${mcp.protocolVersion} tools/call − same REST call, small image, p50`, overRest, { label: 'REST', value: p50(small.rest) }, undefined, target);
    }
    for (const [side, label] of sides) {
      const overhead = runOverhead(textured[side], textured.sdk);
      results.push({
        row: '1',
        metric: `${label}, textured ${texturedImage.width}x${texturedImage.height} JPEG: overhead (ours − SDK, upstream time excluded), p50`,
        ours: overhead,
        unit: 'ms',
        baseline: { label: `SDK callApi less upstream ${p50(textured.sdk).toFixed(1)} ms; ours`, value: p50(textured[side]) },
        target: { text: `≤ ${texturedOverheadTargetMs} ms`, met: overhead <= texturedOverheadTargetMs },
      });
      line('  same, p99 (upstream time excluded)', p99(textured[side]), { label: 'SDK callApi', value: p99(textured.sdk) });
    }
    line(`paid MCP ${mcp2025.protocolVersion}, default delivery (image inline), small image, p50`, p50(inline.mcp), { label: 'SDK + GET result', value: p50(inline.sdk) }, runRatio(inline.mcp, inline.sdk));
    return results;
  } finally {
    for (const client of clients) await client.close();
    await server.stop();
    await emulator.close();
  }
}
