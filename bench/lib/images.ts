import { randomBytes } from 'node:crypto';
import sharp from 'sharp';
import { PERSON } from '../../test/support/images.js';

/**
 * Generated fixtures only (no downloads): a product photo, composites whose alpha is known exactly, and the
 * largest input an Action accepts.
 */

/** A bottle-like product on a soft studio gradient, as a JPEG. */
export async function productPhoto(width: number, height: number): Promise<Buffer> {
  const cx = width / 2;
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">
    <defs>
      <linearGradient id="bg" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="#f4f1ec"/><stop offset="1" stop-color="#d9d4cc"/></linearGradient>
      <linearGradient id="glass" x1="0" y1="0" x2="1" y2="0"><stop offset="0" stop-color="#1d5a3a"/><stop offset="0.35" stop-color="#3f9a6a"/><stop offset="1" stop-color="#123824"/></linearGradient>
    </defs>
    <rect width="100%" height="100%" fill="url(#bg)"/>
    <ellipse cx="${cx}" cy="${height * 0.86}" rx="${width * 0.16}" ry="${height * 0.03}" fill="#000" opacity="0.18"/>
    <rect x="${cx - width * 0.12}" y="${height * 0.32}" width="${width * 0.24}" height="${height * 0.54}" rx="${width * 0.04}" fill="url(#glass)"/>
    <rect x="${cx - width * 0.035}" y="${height * 0.12}" width="${width * 0.07}" height="${height * 0.22}" fill="url(#glass)"/>
    <rect x="${cx - width * 0.045}" y="${height * 0.09}" width="${width * 0.09}" height="${height * 0.05}" rx="6" fill="#c8a24a"/>
    <rect x="${cx - width * 0.1}" y="${height * 0.5}" width="${width * 0.2}" height="${height * 0.18}" fill="#f7f3e8"/>
    <text x="${cx}" y="${height * 0.6}" font-size="${Math.round(height * 0.04)}" text-anchor="middle" fill="#333" font-family="sans-serif">OLIVE OIL</text>
  </svg>`;
  return sharp(Buffer.from(svg)).jpeg({ quality: 88 }).toBuffer();
}

/**
 * The product photo with camera-like grain and fine detail over the whole frame, so the JPEG is as large as a real
 * photo of that size (a flat rendering compresses to a fraction of it).
 */
export async function texturedProductPhoto(width: number, height: number): Promise<Buffer> {
  const photo = await sharp(await productPhoto(width, height)).removeAlpha().raw().toBuffer();
  const grain = await sharp({ create: { width, height, channels: 3, background: '#808080', noise: { type: 'gaussian', mean: 128, sigma: 30 } } })
    .blur(0.6)
    .raw()
    .toBuffer();
  const mixed = Buffer.alloc(photo.length);
  for (let i = 0; i < photo.length; i += 1) mixed[i] = Math.max(0, Math.min(255, photo[i] + (grain[i] - 128) * 0.5));
  return sharp(mixed, { raw: { width, height, channels: 3 } }).jpeg({ quality: 88 }).toBuffer();
}

export interface Composite {
  name: string;
  /** The composite as a PNG (RGB, no alpha). */
  png: Buffer;
  /** Ground-truth alpha of the foreground, one byte per pixel. */
  alpha: Uint8Array;
  width: number;
  height: number;
}

/** Foregrounds: shapes a salient-object model should pick out, with soft (anti-aliased, blurred) edges. */
function foregroundSvg(index: number, side: number): string {
  const s = side;
  const shapes = [
    // a mug
    `<rect x="${s * 0.3}" y="${s * 0.3}" width="${s * 0.34}" height="${s * 0.42}" rx="${s * 0.03}" fill="#c0392b"/>
     <path d="M ${s * 0.64} ${s * 0.4} a ${s * 0.1} ${s * 0.1} 0 1 1 0 ${s * 0.2}" stroke="#c0392b" stroke-width="${s * 0.035}" fill="none"/>`,
    // a person-like silhouette
    `<circle cx="${s * 0.5}" cy="${s * 0.25}" r="${s * 0.09}" fill="#e0ac69"/>
     <rect x="${s * 0.36}" y="${s * 0.36}" width="${s * 0.28}" height="${s * 0.4}" rx="${s * 0.08}" fill="#2e4a7d"/>
     <rect x="${s * 0.39}" y="${s * 0.72}" width="${s * 0.09}" height="${s * 0.24}" fill="#333"/>
     <rect x="${s * 0.52}" y="${s * 0.72}" width="${s * 0.09}" height="${s * 0.24}" fill="#333"/>`,
    // a sneaker-like blob
    `<path d="M ${s * 0.18} ${s * 0.62} Q ${s * 0.2} ${s * 0.38} ${s * 0.42} ${s * 0.36} L ${s * 0.56} ${s * 0.46} Q ${s * 0.78} ${s * 0.5} ${s * 0.84} ${s * 0.64} L ${s * 0.84} ${s * 0.7} L ${s * 0.18} ${s * 0.7} Z" fill="#f5f5f5" stroke="#222" stroke-width="${s * 0.012}"/>
     <rect x="${s * 0.18}" y="${s * 0.66}" width="${s * 0.66}" height="${s * 0.05}" fill="#e74c3c"/>`,
    // a potted plant
    `<polygon points="${s * 0.38},${s * 0.62} ${s * 0.62},${s * 0.62} ${s * 0.58},${s * 0.88} ${s * 0.42},${s * 0.88}" fill="#b5651d"/>
     <ellipse cx="${s * 0.5}" cy="${s * 0.42}" rx="${s * 0.2}" ry="${s * 0.22}" fill="#27ae60"/>
     <ellipse cx="${s * 0.38}" cy="${s * 0.5}" rx="${s * 0.1}" ry="${s * 0.08}" fill="#1e8449"/>`,
    // a camera
    `<rect x="${s * 0.22}" y="${s * 0.38}" width="${s * 0.56}" height="${s * 0.34}" rx="${s * 0.04}" fill="#2c2c2c"/>
     <rect x="${s * 0.3}" y="${s * 0.32}" width="${s * 0.14}" height="${s * 0.07}" fill="#2c2c2c"/>
     <circle cx="${s * 0.5}" cy="${s * 0.55}" r="${s * 0.12}" fill="#888"/>
     <circle cx="${s * 0.5}" cy="${s * 0.55}" r="${s * 0.08}" fill="#1a3c5a"/>`,
  ];
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${s}" height="${s}"><g>${shapes[index % shapes.length]}</g></svg>`;
}

const BACKGROUNDS = [
  ['#f2efe9', '#d8d2c8'],
  ['#dfe9f3', '#9fb8cf'],
  ['#fdf6e3', '#e9dcb6'],
  ['#e8e8e8', '#bdbdbd'],
  ['#f3e5f5', '#c9b3d1'],
];

async function background(index: number, side: number): Promise<Buffer> {
  const [top, bottom] = BACKGROUNDS[index % BACKGROUNDS.length];
  const gradient = await sharp(
    Buffer.from(
      `<svg xmlns="http://www.w3.org/2000/svg" width="${side}" height="${side}"><defs><linearGradient id="g" x1="0" y1="0" x2="0.3" y2="1"><stop offset="0" stop-color="${top}"/><stop offset="1" stop-color="${bottom}"/></linearGradient></defs><rect width="100%" height="100%" fill="url(#g)"/></svg>`,
    ),
  )
    .removeAlpha()
    .raw()
    .toBuffer();
  // A faint paper-like texture, so the background is not a flat colour.
  const noise = await sharp({ create: { width: side, height: side, channels: 3, background: '#808080', noise: { type: 'gaussian', mean: 128, sigma: 40 } } })
    .blur(1.5)
    .raw()
    .toBuffer();
  const mixed = Buffer.alloc(gradient.length);
  for (let i = 0; i < gradient.length; i += 1) mixed[i] = Math.max(0, Math.min(255, gradient[i] + (noise[i] - 128) * 0.25));
  return mixed;
}

/** Renders `foreground` (an SVG whose alpha is the ground truth) over background `backgroundIndex`, softened by `blurSigma`. */
async function composite(name: string, foregroundSvgText: string, backgroundIndex: number, side: number, blurSigma = 0.8): Promise<Composite> {
  // The foreground rendered alone: its alpha is the ground truth (anti-aliased by the rasteriser, softened by a blur).
  const foreground = await sharp(Buffer.from(foregroundSvgText)).ensureAlpha().blur(blurSigma).png().toBuffer();
  const { data: alpha } = await sharp(foreground).extractChannel(3).raw().toBuffer({ resolveWithObject: true });
  const backgroundRaw = await background(backgroundIndex, side);
  const png = await sharp(backgroundRaw, { raw: { width: side, height: side, channels: 3 } })
    .composite([{ input: foreground, blend: 'over' }])
    .removeAlpha()
    .png()
    .toBuffer();
  return { name, png, alpha: new Uint8Array(alpha), width: side, height: side };
}

export async function composites(count: number, side: number): Promise<Composite[]> {
  const result: Composite[] = [];
  for (let index = 0; index < count; index += 1) result.push(await composite(`composite-${index + 1}`, foregroundSvg(index, side), index, side));
  return result;
}

/** The tests' drawn PERSON (480x640 frame) scaled into a `side` square, over a textured background. */
export async function personComposite(side: number): Promise<Composite> {
  const person = `<svg xmlns="http://www.w3.org/2000/svg" width="${side}" height="${side}" viewBox="0 0 480 640" preserveAspectRatio="xMidYMax meet">
    ${PERSON}
  </svg>`;
  return composite('person', person, 1, side);
}

/** A product-like object (a glass bottle with a cap) with soft edges: its alpha is blurred by a few pixels. */
export async function softProductComposite(side: number): Promise<Composite> {
  const s = side;
  const bottle = `<svg xmlns="http://www.w3.org/2000/svg" width="${s}" height="${s}">
    <defs><linearGradient id="glass" x1="0" y1="0" x2="1" y2="0"><stop offset="0" stop-color="#1d5a3a"/><stop offset="0.35" stop-color="#3f9a6a"/><stop offset="1" stop-color="#123824"/></linearGradient></defs>
    <rect x="${s * 0.38}" y="${s * 0.34}" width="${s * 0.24}" height="${s * 0.54}" rx="${s * 0.04}" fill="url(#glass)"/>
    <rect x="${s * 0.465}" y="${s * 0.14}" width="${s * 0.07}" height="${s * 0.22}" fill="url(#glass)"/>
    <rect x="${s * 0.455}" y="${s * 0.1}" width="${s * 0.09}" height="${s * 0.05}" rx="${s * 0.006}" fill="#c8a24a"/>
    <rect x="${s * 0.4}" y="${s * 0.52}" width="${s * 0.2}" height="${s * 0.18}" fill="#f7f3e8"/>
  </svg>`;
  return composite('soft-product', bottle, 2, side, Math.max(1, side / 400));
}

/** A coarse mask of `truth` as a client might send one: 1/16 resolution (blocky), scaled back, dilated; a JPEG. */
export async function coarseMask(truth: Uint8Array, width: number, height: number): Promise<{ jpeg: Buffer; mask: Uint8Array }> {
  const raw = (channels: 1) => ({ raw: { width, height, channels } });
  const [w, h] = [Math.round(width / 16), Math.round(height / 16)];
  const small = await sharp(truth, raw(1)).resize(w, h, { kernel: 'nearest' }).extractChannel(0).raw().toBuffer();
  const blocky = await sharp(small, { raw: { width: w, height: h, channels: 1 } }).resize(width, height, { kernel: 'nearest' }).extractChannel(0).raw().toBuffer();
  const dilated = await sharp(blocky, raw(1)).dilate(Math.max(1, Math.round(width / 100))).extractChannel(0).raw().toBuffer();
  const jpeg = await sharp(dilated, raw(1)).jpeg({ quality: 90 }).toBuffer();
  // What the provider sees is the decoded JPEG: score that, not the raw mask.
  const { data } = await sharp(jpeg).extractChannel(0).raw().toBuffer({ resolveWithObject: true });
  return { jpeg, mask: new Uint8Array(data) };
}

/** A PNG of incompressible noise as close under `maxBytes` as a square allows: the largest accepted input by size. */
export async function largestPng(maxBytes: number): Promise<{ png: Buffer; width: number; height: number }> {
  let side = Math.floor(Math.sqrt(maxBytes / 3));
  for (;;) {
    const raw = randomBytes(side * side * 3);
    const png = await sharp(raw, { raw: { width: side, height: side, channels: 3 } }).png({ compressionLevel: 0 }).toBuffer();
    if (png.length <= maxBytes) return { png, width: side, height: side };
    side -= Math.ceil((side * (png.length - maxBytes)) / (2 * png.length)) + 1;
  }
}

/** Alpha of a PNG, one byte per pixel (opaque images give 255 everywhere). */
export async function alphaOf(image: Buffer): Promise<{ alpha: Uint8Array; width: number; height: number }> {
  const { data, info } = await sharp(image).ensureAlpha().extractChannel(3).raw().toBuffer({ resolveWithObject: true });
  return { alpha: new Uint8Array(data), width: info.width, height: info.height };
}

/** Mask quality against ground truth: IoU at alpha 0.5, and mean absolute error of alpha in 0..1. */
export function maskQuality(predicted: Uint8Array, truth: Uint8Array): { iou: number; mae: number } {
  if (predicted.length !== truth.length) throw new Error(`mask sizes differ: ${predicted.length} vs ${truth.length}`);
  let intersection = 0;
  let union = 0;
  let error = 0;
  for (let i = 0; i < truth.length; i += 1) {
    const p = predicted[i] >= 128;
    const t = truth[i] >= 128;
    if (p && t) intersection += 1;
    if (p || t) union += 1;
    error += Math.abs(predicted[i] - truth[i]);
  }
  return { iou: union === 0 ? 1 : intersection / union, mae: error / truth.length / 255 };
}
