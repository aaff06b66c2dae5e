import { mkdtempSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { capabilities } from '../tools/index.js';
import type { Capability } from '../src/catalog/capability.js';
import { AppError } from '../src/errors.js';
import type { LoadedImage } from '../src/images/load.js';
import { createFileResultStore, type ResultStore } from '../src/results/result-store.js';
import type { ProviderCall } from '../src/providers/provider.js';
import type { ProviderResult } from '../src/results/types.js';
import { createLocalProvider, describeLocalModels } from '../src/providers/local/index.js';
import { decodeBmp } from '../src/providers/local/bmp.js';
import { createTaskQueue } from '../src/providers/local/queue.js';
import { responseData } from '../src/providers/local/response.js';
import { boxMean } from '../src/providers/local/guided-filter.js';
import { bmp24, PERSON } from './support/images.js';

// Fixtures are generated here with sharp (SVG rendering + raw compositing), with an exactly known alpha.

const logger = pino({ level: 'silent' });
const modelDirectory = mkdtempSync(path.join(os.tmpdir(), 'imageseg-models-'));
const provider = createLocalProvider({ logger, modelDirectory, memoryArena: false, idleMs: 60_000, maxWaiting: 8 });
const models = Object.fromEntries(describeLocalModels().map((entry) => [entry.model, entry]));
const ISNET_TIMEOUT = 90_000;

let directory: string;
let results: ResultStore;

beforeAll(async () => {
  directory = await mkdtemp(path.join(os.tmpdir(), 'local-provider-'));
  results = createFileResultStore({ directory, baseUrl: () => 'http://127.0.0.1:0', ttlMs: 60_000 });
});

afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

function capability(action: string): Capability {
  const found = (capabilities as readonly Capability[]).find((entry) => entry.action === action);
  if (!found) throw new Error(`no descriptor for ${action}`);
  return found;
}

async function loaded(bytes: Buffer, sourceUrl?: string): Promise<LoadedImage> {
  const metadata = await sharp(bytes).metadata();
  const format = metadata.format === 'jpeg' ? 'jpeg' : 'png';
  return { bytes, format, mimeType: `image/${format}`, width: metadata.width, height: metadata.height, ...(sourceUrl ? { sourceUrl } : {}) };
}

async function run(action: string, images: Record<string, Buffer>, params: Record<string, unknown> = {}): Promise<ProviderResult> {
  const loadedImages: Record<string, LoadedImage> = {};
  for (const [field, bytes] of Object.entries(images)) loadedImages[field] = await loaded(bytes);
  const call: ProviderCall = { capability: capability(action), params: { ...params }, images: loadedImages, results };
  return provider.run(call);
}

/** Channel count as written in the file, and the alpha (or grey) plane decoded from it. */
async function inspect(bytes: Buffer) {
  const metadata = await sharp(bytes).metadata();
  const plane = async (index: 0 | 1 | 2 | 3) => sharp(bytes).extractChannel(index).raw().toBuffer();
  return { metadata, plane };
}

function iou(a: Uint8Array, b: Uint8Array, threshold = 128): number {
  let intersection = 0;
  let union = 0;
  for (let i = 0; i < a.length; i += 1) {
    const x = a[i] >= threshold;
    const y = b[i] >= threshold;
    if (x && y) intersection += 1;
    if (x || y) union += 1;
  }
  return intersection / union;
}

function mae(a: Uint8Array, b: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i += 1) sum += Math.abs(a[i] - b[i]);
  return sum / a.length / 255;
}

function boundingBox(alpha: Uint8Array, width: number, height: number, threshold: number) {
  let minX = width;
  let minY = height;
  let maxX = -1;
  let maxY = -1;
  for (let y = 0; y < height; y += 1) {
    for (let x = 0; x < width; x += 1) {
      if (alpha[y * width + x] >= threshold) {
        minX = Math.min(minX, x);
        maxX = Math.max(maxX, x);
        minY = Math.min(minY, y);
        maxY = Math.max(maxY, y);
      }
    }
  }
  return { width: maxX - minX + 1, height: maxY - minY + 1 };
}

const svg = (width: number, height: number, body: string) =>
  Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">${body}</svg>`);

/** Renders a foreground layer (RGBA, transparent outside the subject) and composites it over a background. */
async function scene(width: number, height: number, background: string, foreground: string, softenSigma = 0) {
  const layer = await sharp(svg(width, height, foreground)).ensureAlpha().raw().toBuffer();
  let alpha = await sharp(layer, { raw: { width, height, channels: 4 } }).extractChannel(3).raw().toBuffer();
  if (softenSigma > 0) {
    alpha = await sharp(alpha, { raw: { width, height, channels: 1 } }).blur(softenSigma).extractChannel(0).raw().toBuffer();
  }
  const back = await sharp(svg(width, height, background)).flatten().removeAlpha().raw().toBuffer();
  const rgb = Buffer.alloc(width * height * 3);
  for (let i = 0; i < width * height; i += 1) {
    const a = alpha[i] / 255;
    for (let c = 0; c < 3; c += 1) {
      // Foreground colour where the layer has any coverage; the soft alpha blends it in.
      const fg = layer[i * 4 + 3] > 0 ? layer[i * 4 + c] : back[i * 3 + c];
      rgb[i * 3 + c] = Math.round(fg * a + back[i * 3 + c] * (1 - a));
    }
  }
  const png = await sharp(rgb, { raw: { width, height, channels: 3 } }).png().toBuffer();
  return { png, rgb, alpha, width, height };
}

const NOISY_GRADIENT = `
  <defs>
    <linearGradient id="bg" x1="0" y1="0" x2="1" y2="1"><stop offset="0" stop-color="#d8d2c4"/><stop offset="1" stop-color="#7d8fa6"/></linearGradient>
    <filter id="noise"><feTurbulence type="fractalNoise" baseFrequency="0.8" numOctaves="2" seed="3"/><feColorMatrix type="saturate" values="0"/>
      <feComponentTransfer><feFuncA type="linear" slope="0.3"/></feComponentTransfer></filter>
  </defs>
  <rect width="100%" height="100%" fill="url(#bg)"/><rect width="100%" height="100%" filter="url(#noise)"/>`;

/** (a) A product: a bottle-like rounded body with a cap, shaded and labelled with stripes. */
const PRODUCT = `
  <defs>
    <radialGradient id="body" cx="0.35" cy="0.3" r="0.8"><stop offset="0" stop-color="#ff7a48"/><stop offset="1" stop-color="#8c1c06"/></radialGradient>
    <pattern id="stripes" width="16" height="16" patternUnits="userSpaceOnUse"><rect width="16" height="16" fill="#f4efe2"/><rect width="16" height="5" fill="#2d6c8c"/></pattern>
  </defs>
  <rect x="200" y="110" width="240" height="280" rx="40" fill="url(#body)"/>
  <ellipse cx="320" cy="110" rx="60" ry="24" fill="#5a1a0a"/>
  <rect x="240" y="200" width="160" height="80" rx="8" fill="url(#stripes)"/>`;

const ROOM = `
  <defs><filter id="wall"><feTurbulence type="fractalNoise" baseFrequency="0.02" numOctaves="3" seed="5"/><feColorMatrix type="saturate" values="0"/>
    <feComponentTransfer><feFuncA type="linear" slope="0.3"/></feComponentTransfer></filter></defs>
  <rect width="100%" height="100%" fill="#6d7f8a"/><rect width="100%" height="100%" filter="url(#wall)"/><rect y="420" width="100%" height="220" fill="#9a8068"/>`;

describe('local provider: wiring', () => {
  it('describes its three models without loading them', () => {
    const described = describeLocalModels();
    expect(described.map((entry) => entry.model)).toEqual(['salient-object', 'person', 'mask-refinement']);
    for (const entry of described) expect(entry.detail.length).toBeGreaterThan(0);
    expect(models['mask-refinement'].available).toBe(true);
    expect(models.person.available).toBe(true); // vendored in models/selfie
  });

  it('supports exactly the capabilities that name an available local model', () => {
    expect(provider.name).toBe('local');
    for (const entry of capabilities as readonly Capability[]) {
      const expected = entry.localModel !== undefined && models[entry.localModel].available;
      expect(provider.supports(entry), entry.action).toBe(expected);
    }
    expect(provider.supports(capability('SegmentSky'))).toBe(false);
  });

  it('answers PROVIDER_NOT_CONFIGURED for a capability without a local model, IMAGE_INVALID for undecodable bytes', async () => {
    const image = await sharp({ create: { width: 64, height: 64, channels: 3, background: '#808080' } }).png().toBuffer();
    await expect(run('SegmentSky', { ImageURL: image })).rejects.toMatchObject({ code: 'PROVIDER_NOT_CONFIGURED' });
    const broken = Buffer.concat([image.subarray(0, 60), Buffer.alloc(200, 7)]);
    const call: ProviderCall = {
      capability: capability('SegmentBody'),
      params: {},
      images: { ImageURL: { bytes: broken, format: 'png', mimeType: 'image/png', width: 64, height: 64 } },
      results,
    };
    const error = await provider.run(call).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe('IMAGE_INVALID');
  });

  it('shapes Data as the reference documents each Action', () => {
    const shapeOf = (action: string) => capability(action).resultShape;
    expect(responseData(shapeOf('SegmentCommodity'), 'u').data).toEqual({ ImageURL: 'u' });
    expect(responseData(shapeOf('SegmentHDCommonImage'), 'u').data).toEqual({ ImageUrl: 'u' });
    expect(responseData(shapeOf('RefineMask'), 'u').data).toEqual({ Elements: [{ ImageURL: 'u' }] });
    expect(responseData(shapeOf('SegmentFurniture'), 'u').data).toEqual({ Elements: [{ ImageURL: 'u' }] });
    expect(responseData(shapeOf('SegmentVehicle'), 'u', 'http://x/y.jpg').data).toEqual({ Elements: [{ ImageURL: 'u', OriginImageURL: 'http://x/y.jpg' }] });
    expect(responseData(shapeOf('SegmentVehicle'), 'u').data).toEqual({ Elements: [{ ImageURL: 'u' }] });
  });

  it('runs queued tasks one at a time and drops a waiting task whose signal aborts', async () => {
    const queue = createTaskQueue();
    let active = 0;
    let maxActive = 0;
    const task = async () => {
      active += 1;
      maxActive = Math.max(maxActive, active);
      await new Promise((resolve) => setTimeout(resolve, 5));
      active -= 1;
    };
    const controller = new AbortController();
    const ran: string[] = [];
    const first = queue.run(async () => { await task(); ran.push('first'); });
    const second = queue.run(async () => { ran.push('second'); }, controller.signal);
    const third = queue.run(async () => { await task(); ran.push('third'); });
    controller.abort();
    await expect(second).rejects.toBeDefined();
    await Promise.all([first, third]);
    expect(ran).toEqual(['first', 'third']);
    expect(maxActive).toBe(1);
  });

  it('refuses a task at once, without queueing it, when maxWaiting tasks already wait', async () => {
    const queue = createTaskQueue({ maxWaiting: 1, refuse: (waiting) => new Error(`busy: ${waiting} waiting`) });
    let release!: () => void;
    const running = queue.run(() => new Promise<void>((resolve) => (release = resolve)));
    const waiting = queue.run(async () => 'ran');
    await expect(queue.run(async () => 'never')).rejects.toThrow('busy: 1 waiting');
    expect(queue.size).toBe(2);
    release();
    await running;
    expect(await waiting).toBe('ran');
  });

  it('box filter equals the brute-force window mean, borders included', () => {
    const width = 23;
    const height = 17;
    const radius = 4;
    const source = Float32Array.from({ length: width * height }, (_, i) => ((i * 7919) % 101) / 100);
    const fast = boxMean(source, width, height, radius);
    let worst = 0;
    for (let y = 0; y < height; y += 1) {
      for (let x = 0; x < width; x += 1) {
        let sum = 0;
        let count = 0;
        for (let v = Math.max(0, y - radius); v <= Math.min(height - 1, y + radius); v += 1) {
          for (let u = Math.max(0, x - radius); u <= Math.min(width - 1, x + radius); u += 1) {
            sum += source[v * width + u];
            count += 1;
          }
        }
        worst = Math.max(worst, Math.abs(sum / count - fast[y * width + x]));
      }
    }
    expect(worst).toBeLessThan(1e-5);
  });

  it('decodes BMP (24-bit bottom-up and 8-bit palette), which sharp cannot read', () => {
    const width = 5;
    const height = 3;
    const pixel = (x: number, y: number) => [x * 50, y * 100, 255 - x * 40];
    const rgb = Buffer.alloc(width * height * 3);
    for (let y = 0; y < height; y += 1) for (let x = 0; x < width; x += 1) rgb.set(pixel(x, y), (y * width + x) * 3);
    const decoded = decodeBmp(bmp24(width, height, rgb));
    expect([decoded.width, decoded.height]).toEqual([width, height]);
    for (let y = 0; y < height; y += 1) {
      for (let x = 0; x < width; x += 1) {
        expect([...decoded.data.subarray((y * width + x) * 4, (y * width + x) * 4 + 4)]).toEqual([...pixel(x, y), 255]);
      }
    }
    // 8-bit palette, top-down (negative height): index = x.
    const stride8 = Math.ceil(width / 4) * 4;
    const bmp8 = Buffer.alloc(54 + 256 * 4 + stride8 * height);
    bmp8.write('BM', 0, 'ascii');
    bmp8.writeUInt32LE(54 + 256 * 4, 10);
    bmp8.writeUInt32LE(40, 14);
    bmp8.writeInt32LE(width, 18);
    bmp8.writeInt32LE(-height, 22);
    bmp8.writeUInt16LE(1, 26);
    bmp8.writeUInt16LE(8, 28);
    for (let i = 0; i < 256; i += 1) bmp8.writeUInt32LE(((i * 3) << 16) | ((i * 2) << 8) | i, 54 + i * 4);
    for (let y = 0; y < height; y += 1) for (let x = 0; x < width; x += 1) bmp8[54 + 1024 + y * stride8 + x] = x;
    const paletted = decodeBmp(bmp8);
    expect([...paletted.data.subarray(4 * 3, 4 * 3 + 4)]).toEqual([9, 6, 3, 255]); // x = 3: r = 9, g = 6, b = 3
  });
});

describe.skipIf(!models['salient-object'].available)('salient-object (ISNet)', () => {
  let product: Awaited<ReturnType<typeof scene>>;
  beforeAll(async () => {
    product = await scene(640, 480, NOISY_GRADIENT, PRODUCT, 1.2);
  });

  it('(a) cuts a product out of a noisy gradient: transparent PNG at the input size, IoU >= 0.95', { timeout: ISNET_TIMEOUT }, async () => {
    const started = performance.now();
    const result = await run('SegmentCommodity', { ImageURL: product.png });
    const ms = performance.now() - started;
    expect(result.requestId).toMatch(/^[0-9A-F]{8}-[0-9A-F]{4}-4[0-9A-F]{3}-[89AB][0-9A-F]{3}-[0-9A-F]{12}$/);
    expect(Object.keys(result.data)).toEqual(['ImageURL']);
    const [image] = result.images!;
    expect(image).toMatchObject({ field: 'ImageURL', url: result.data.ImageURL, mimeType: 'image/png' });
    expect(String(result.data.ImageURL)).toMatch(/^http:\/\/127\.0\.0\.1:0\/results\/[a-f0-9]{32}\.png$/);
    const stored = await results.load(String(result.data.ImageURL).split('/').pop()!);
    expect(stored?.bytes.equals(image.bytes)).toBe(true);
    const { metadata, plane } = await inspect(image.bytes);
    expect([metadata.width, metadata.height, metadata.channels, metadata.hasAlpha]).toEqual([640, 480, 4, true]);
    const alpha = await plane(3);
    const score = iou(alpha, product.alpha);
    console.info(`ISNet product: IoU ${score.toFixed(4)}, MAE ${mae(alpha, product.alpha).toFixed(4)}, ${Math.round(ms)} ms (first call, model load included)`);
    expect(score).toBeGreaterThanOrEqual(0.95);
    // The colour is the input's where the subject is.
    const rgb = await sharp(image.bytes).removeAlpha().raw().toBuffer();
    const centre = (240 * 640 + 320) * 3;
    expect(Math.abs(rgb[centre] - product.rgb[centre])).toBeLessThanOrEqual(1);
  });

  it('(d) ReturnForm=mask: a single-channel PNG mask', { timeout: ISNET_TIMEOUT }, async () => {
    const started = performance.now();
    const result = await run('SegmentCommonImage', { ImageURL: product.png }, { ReturnForm: 'mask' });
    const ms = performance.now() - started;
    const { metadata, plane } = await inspect(result.images![0].bytes);
    expect(metadata.format).toBe('png');
    expect([metadata.width, metadata.height, metadata.channels, metadata.hasAlpha]).toEqual([640, 480, 1, false]);
    const mask = await plane(0);
    console.info(`ISNet product mask: IoU ${iou(mask, product.alpha).toFixed(4)}, ${Math.round(ms)} ms (warm)`);
    expect(iou(mask, product.alpha)).toBeGreaterThanOrEqual(0.95);
  });

  it('(d) ReturnForm=whiteBK: the subject on white, a JPEG without alpha', { timeout: ISNET_TIMEOUT }, async () => {
    const result = await run('SegmentCommodity', { ImageURL: product.png }, { ReturnForm: 'whiteBK' });
    const image = result.images![0];
    expect(image.mimeType).toBe('image/jpeg');
    const { metadata } = await inspect(image.bytes);
    expect([metadata.format, metadata.width, metadata.height, metadata.channels, metadata.hasAlpha]).toEqual(['jpeg', 640, 480, 3, false]);
    const rgb = await sharp(image.bytes).raw().toBuffer();
    const corner = (10 * 640 + 10) * 3;
    expect(Math.min(rgb[corner], rgb[corner + 1], rgb[corner + 2])).toBeGreaterThanOrEqual(245); // background became white
    const centre = (300 * 640 + 320) * 3;
    expect(Math.abs(rgb[centre] - product.rgb[centre])).toBeLessThanOrEqual(12); // subject kept (JPEG tolerance)
  });
});

describe.skipIf(!models.person.available)('person (MediaPipe Selfie Segmentation)', () => {
  let person: Awaited<ReturnType<typeof scene>>;
  beforeAll(async () => {
    person = await scene(480, 640, ROOM, PERSON);
  });

  it('(b) cuts a drawn person out of a room: IoU >= 0.95', async () => {
    // Emscripten (inside the TF.js WASM backend) adds process-wide error handlers that rethrow; the provider removes them.
    const listeners = () => [process.listenerCount('uncaughtException'), process.listenerCount('unhandledRejection')];
    const before = listeners();
    const timings: number[] = [];
    let result: ProviderResult | undefined;
    for (let i = 0; i < 2; i += 1) {
      const started = performance.now();
      result = await run('SegmentBody', { ImageURL: person.png });
      timings.push(performance.now() - started);
    }
    expect(listeners()).toEqual(before);
    expect(Object.keys(result!.data)).toEqual(['ImageURL']);
    const { metadata, plane } = await inspect(result!.images![0].bytes);
    expect([metadata.width, metadata.height, metadata.channels]).toEqual([480, 640, 4]);
    const alpha = await plane(3);
    const score = iou(alpha, person.alpha);
    console.info(`Selfie person: IoU ${score.toFixed(4)}, MAE ${mae(alpha, person.alpha).toFixed(4)}, first ${Math.round(timings[0])} ms, warm ${Math.round(timings[1])} ms`);
    expect(score).toBeGreaterThanOrEqual(0.95);
  });

  it('(d) ReturnForm=crop: a 4-channel PNG of the subject\'s bounding box', async () => {
    const result = await run('SegmentBody', { ImageURL: person.png }, { ReturnForm: 'crop' });
    const { metadata } = await inspect(result.images![0].bytes);
    const truth = boundingBox(person.alpha, 480, 640, 128);
    expect(metadata.channels).toBe(4);
    expect(Math.abs(metadata.width - truth.width)).toBeLessThanOrEqual(12);
    expect(Math.abs(metadata.height - truth.height)).toBeLessThanOrEqual(12);
    expect(metadata.width).toBeLessThan(480);
  });

  it('(d) ReturnForm=mask and whiteBK on SegmentHDBody\'s sibling SegmentBody; EXIF orientation applied', async () => {
    // The same scene stored sideways with EXIF orientation 6 (rotate 90° clockwise to view).
    const sideways = await sharp(person.png).rotate(-90).jpeg({ quality: 95 }).withMetadata({ orientation: 6 }).toBuffer();
    const mask = await run('SegmentBody', { ImageURL: sideways }, { ReturnForm: 'mask' });
    const { metadata, plane } = await inspect(mask.images![0].bytes);
    expect([metadata.width, metadata.height, metadata.channels]).toEqual([480, 640, 1]);
    expect(iou(await plane(0), person.alpha)).toBeGreaterThanOrEqual(0.95);
    const white = await run('SegmentHDBody', { ImageURL: person.png }, { ReturnForm: 'whiteBK' });
    const whiteMeta = (await inspect(white.images![0].bytes)).metadata;
    expect([whiteMeta.format, whiteMeta.channels, whiteMeta.hasAlpha]).toEqual(['jpeg', 3, false]);
  });

  it('keeps transparent input pixels transparent', async () => {
    const withHole = await sharp(person.png)
      .ensureAlpha()
      .composite([{ input: { create: { width: 480, height: 100, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } } }, top: 300, left: 0, blend: 'dest-in' }])
      .png()
      .toBuffer();
    const holed = await sharp(withHole).extractChannel(3).raw().toBuffer();
    expect(holed[(350 * 480 + 240)]).toBe(0);
    const result = await run('SegmentBody', { ImageURL: withHole });
    const alpha = await sharp(result.images![0].bytes).extractChannel(3).raw().toBuffer();
    expect(alpha[350 * 480 + 240]).toBe(0);
  });
});

describe('mask-refinement (RefineMask, guided filter)', () => {
  it('(c) snaps a blocky, dilated mask onto the object: IoU above the rough mask\'s', async () => {
    const width = 640;
    const height = 480;
    const object = await scene(
      width,
      height,
      `<defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="0"><stop offset="0" stop-color="#3a6b4c"/><stop offset="1" stop-color="#c9b98f"/></linearGradient>
        <filter id="n"><feTurbulence type="fractalNoise" baseFrequency="0.05" numOctaves="3" seed="7"/><feColorMatrix type="saturate" values="0.3"/>
        <feComponentTransfer><feFuncA type="linear" slope="0.35"/></feComponentTransfer></filter></defs>
        <rect width="100%" height="100%" fill="url(#g)"/><rect width="100%" height="100%" filter="url(#n)"/>`,
      `<defs><radialGradient id="o" cx="0.4" cy="0.4" r="0.7"><stop offset="0" stop-color="#f0d040"/><stop offset="1" stop-color="#c06010"/></radialGradient></defs>
        <ellipse cx="300" cy="240" rx="170" ry="130" fill="url(#o)"/><circle cx="470" cy="150" r="60" fill="url(#o)"/>`,
    );
    // Rough mask: the truth at 1/16 resolution (blocky), scaled back with nearest neighbour, dilated by 6 px.
    const small = await sharp(object.alpha, { raw: { width, height, channels: 1 } }).resize(width / 16, height / 16, { kernel: 'nearest' }).extractChannel(0).raw().toBuffer();
    const blocky = await sharp(small, { raw: { width: width / 16, height: height / 16, channels: 1 } }).resize(width, height, { kernel: 'nearest' }).extractChannel(0).raw().toBuffer();
    const rough = await sharp(blocky, { raw: { width, height, channels: 1 } }).dilate(6).extractChannel(0).raw().toBuffer();
    const roughJpeg = await sharp(rough, { raw: { width, height, channels: 1 } }).jpeg({ quality: 90 }).toBuffer();

    const started = performance.now();
    const result = await run('RefineMask', { ImageURL: object.png, MaskImageURL: roughJpeg });
    const ms = performance.now() - started;
    expect(Object.keys(result.data)).toEqual(['Elements']);
    const elements = result.data.Elements as Array<{ ImageURL: string }>;
    expect(elements).toHaveLength(1);
    expect(result.images![0]).toMatchObject({ field: 'Elements[0].ImageURL', url: elements[0].ImageURL, mimeType: 'image/png' });
    const { metadata, plane } = await inspect(result.images![0].bytes);
    expect([metadata.width, metadata.height, metadata.channels]).toEqual([width, height, 1]);
    const refined = await plane(0);
    const before = iou(rough, object.alpha);
    const after = iou(refined, object.alpha);
    console.info(
      `RefineMask: rough IoU ${before.toFixed(4)} MAE ${mae(rough, object.alpha).toFixed(4)} -> refined IoU ${after.toFixed(4)} MAE ${mae(refined, object.alpha).toFixed(4)}, ${Math.round(ms)} ms`,
    );
    expect(after).toBeGreaterThan(before);
    expect(after).toBeGreaterThanOrEqual(0.97);
    expect(mae(refined, object.alpha)).toBeLessThan(mae(rough, object.alpha));
  });

  it('accepts a mask of another size and a cutout PNG (its alpha is the mask)', async () => {
    const width = 320;
    const height = 240;
    const object = await scene(width, height, '<rect width="100%" height="100%" fill="#204060"/>', '<circle cx="160" cy="120" r="70" fill="#e0c040"/>');
    const fullSize = await sharp(object.rgb, { raw: { width, height, channels: 3 } })
      .joinChannel(object.alpha, { raw: { width, height, channels: 1 } })
      .png()
      .toBuffer();
    // A separate pipeline: sharp would resize before joining the channel.
    const cutout = await sharp(fullSize).resize(160, 120).png().toBuffer();
    const result = await run('RefineMask', { ImageURL: object.png, MaskImageURL: cutout });
    const { metadata, plane } = await inspect(result.images![0].bytes);
    expect([metadata.width, metadata.height, metadata.channels]).toEqual([width, height, 1]);
    expect(iou(await plane(0), object.alpha)).toBeGreaterThanOrEqual(0.97);
  });
});
