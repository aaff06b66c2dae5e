/**
 * Row 1: a paid MCP tools/call over streamable HTTP through our server to the loopback Alibaba emulator, against
 * the same Action called directly with the Alibaba SDK. Both run in this process against the same emulator and
 * image; our server is a child process (`node dist/cli.js http`), as deployed. Calls alternate ours/SDK.
 */
import path from 'node:path';
import { startAlibabaEmulator } from '../../test/emulator/index.js';
import { emulatorEnvironment } from '../../test/support/server.js';
import { SETTINGS } from '../settings.js';
import { productPhoto } from '../lib/images.js';
import { mintTokens } from '../lib/ledger.js';
import { connectMcp } from '../lib/mcp-client.js';
import { startServer } from '../lib/processes.js';
import { createSdkCaller } from '../lib/sdk.js';
import { median, percentile, timed } from '../lib/stats.js';
import type { RowResult } from '../lib/report.js';

const TOOL = 'product_background_removal';
const SERVICE = 'product-background-removal';

type Sampler = () => Promise<unknown>;

/** Alternates the two samplers (order flipped every call); returns per-run samples of each. */
async function alternate(ours: Sampler, baseline: Sampler): Promise<{ ours: number[][]; baseline: number[][] }> {
  const { warmup, runs, callsPerRun } = SETTINGS.gateway;
  for (let index = 0; index < warmup; index += 1) {
    await ours();
    await baseline();
  }
  const result = { ours: [] as number[][], baseline: [] as number[][] };
  for (let run = 0; run < runs; run += 1) {
    const oursRun: number[] = [];
    const baselineRun: number[] = [];
    for (let index = 0; index < callsPerRun; index += 1) {
      const order: Array<[Sampler, number[]]> = index % 2 === 0 ? [[ours, oursRun], [baseline, baselineRun]] : [[baseline, baselineRun], [ours, oursRun]];
      for (const [sample, into] of order) into.push((await timed(sample)).ms);
    }
    result.ours.push(oursRun);
    result.baseline.push(baselineRun);
  }
  return result;
}

function summarize(samples: number[][]) {
  return { p50: median(samples.map((run) => median(run))), p99: percentile(samples.flat(), 99) };
}

export async function measureGatewayLatency(workDirectory: string): Promise<RowResult[]> {
  const { warmup, runs, callsPerRun, image } = SETTINGS.gateway;
  const emulator = await startAlibabaEmulator();
  const databaseUrl = path.join(workDirectory, 'gateway', 'ledger.db');
  const callsPerVariant = warmup + runs * callsPerRun;
  const tokens = await mintTokens(databaseUrl, SERVICE, 2 * callsPerVariant);
  const server = await startServer({
    name: 'gateway',
    workDirectory: path.join(workDirectory, 'gateway'),
    environment: {
      ...emulatorEnvironment(emulator),
      PAYMENTS: 'required',
      DATABASE_URL: databaseUrl,
    },
  });
  const mcp = await connectMcp(server.url);
  const sdk = createSdkCaller(emulator);
  try {
    const imageUrl = emulator.hostImage(await productPhoto(image.width, image.height), 'image/jpeg');
    const sdkCall = async () => {
      const body = await sdk('SegmentCommodity', { ImageURL: imageUrl });
      const url = (body.Data as { ImageURL?: string } | undefined)?.ImageURL;
      if (!url) throw new Error(`SDK call returned no Data.ImageURL: ${JSON.stringify(body).slice(0, 200)}`);
      return url;
    };
    const paidCall = (deliver?: 'url') => () => mcp.call(TOOL, { ImageURL: imageUrl, paymentToken: tokens.pop()!, ...(deliver ? { deliver } : {}) });

    // 1a: the same work on both sides: the answer carries the result image's URL.
    const link = await alternate(paidCall('url'), sdkCall);
    // 1b: MCP's default delivery embeds the result image; the direct integrator then downloads it too.
    const inline = await alternate(paidCall(), async () => {
      const response = await fetch(await sdkCall());
      await response.arrayBuffer();
    });

    const results: RowResult[] = [];
    const add = (metric: string, ours: number, baseline: number, ratio: number, label: string, target?: number, note?: string) =>
      results.push({
        row: '1',
        metric,
        ours,
        unit: 'ms',
        baseline: { label, value: baseline },
        ratio,
        ...(target !== undefined ? { target: { text: `≤ ${target}×`, met: ratio <= target } } : {}),
        ...(note ? { note } : {}),
      });
    // p50: the median over runs of each run's ratio (ours and the SDK ran interleaved, so a slow stretch of the
    // machine hits both); p99: over all samples of each side.
    const runRatios = (samples: { ours: number[][]; baseline: number[][] }) => median(samples.ours.map((run, index) => median(run) / median(samples.baseline[index]!)));
    const [ourLink, sdkLink, ourInline, sdkInline] = [summarize(link.ours), summarize(link.baseline), summarize(inline.ours), summarize(inline.baseline)];
    const note = `${runs} runs × ${callsPerRun} calls per side after ${warmup} warm-up, interleaved; SegmentCommodity on a ${image.width}x${image.height} JPEG hosted by the emulator (passthrough URL); one-use payment tokens; server: node dist/cli.js http`;
    add('paid MCP tools/call → emulator, p50 (deliver=url)', ourLink.p50, sdkLink.p50, runRatios(link), 'SDK callApi', 1.15, note);
    add('  same, p99', ourLink.p99, sdkLink.p99, ourLink.p99 / sdkLink.p99, 'SDK callApi');
    add('  default delivery (image inline), p50', ourInline.p50, sdkInline.p50, runRatios(inline), 'SDK + GET result');
    add('  default delivery (image inline), p99', ourInline.p99, sdkInline.p99, ourInline.p99 / sdkInline.p99, 'SDK + GET result');
    return results;
  } finally {
    await mcp.close();
    await server.stop();
    await emulator.close();
  }
}
