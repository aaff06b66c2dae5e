/**
 * Image input and output for the emulator: download an image URL the way Alibaba does
 * (HTTP GET with a short timeout), check it against the Action's documented input limits,
 * decode it to RGBA with sharp (BMP with a small decoder: sharp's prebuilt libvips has no BMP
 * loader), and encode results back to PNG / JPEG.
 */
import sharp from 'sharp';
import { AliError, aliError } from './errors.js';

export type ImageFormat = 'jpeg' | 'png' | 'bmp' | 'webp' | 'gif' | 'tiff';

/** Input limits as the reference states them per Action (输入限制). Sides are exclusive bounds (大于 / 小于). */
export interface ImageLimits {
  formats: readonly ImageFormat[];
  maxBytes: number;
  /** width and height must be greater than this (大于 N×N 像素). */
  minSide?: number;
  /** width and height must be less than this (小于 N×N 像素). */
  maxSide?: number;
  /** allowed width / height range (ParseFace: 0.5 ~ 2.0). */
  aspect?: readonly [number, number];
}

export interface Raster {
  width: number;
  height: number;
  /** RGBA, 8 bits per channel, row-major. */
  data: Buffer;
  /** The source image carried an alpha channel. */
  hasAlpha: boolean;
  format: ImageFormat;
}

export const MB = 1024 * 1024;

/** Detect the container from magic bytes (never from the URL's extension). */
export function sniffFormat(bytes: Buffer): ImageFormat | null {
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  if (bytes.length >= 8 && bytes.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return 'png';
  if (bytes.length >= 26 && bytes[0] === 0x42 && bytes[1] === 0x4d) return 'bmp';
  if (bytes.length >= 12 && bytes.toString('latin1', 0, 4) === 'RIFF' && bytes.toString('latin1', 8, 12) === 'WEBP') return 'webp';
  if (bytes.length >= 6 && bytes.toString('latin1', 0, 4) === 'GIF8') return 'gif';
  if (bytes.length >= 4 && (bytes.toString('latin1', 0, 4) === 'II*\u0000' || bytes.toString('latin1', 0, 4) === 'MM\u0000*')) return 'tiff';
  return null;
}

export function contentTypeOf(format: ImageFormat | null): string {
  switch (format) {
    case 'jpeg': return 'image/jpeg';
    case 'png': return 'image/png';
    case 'bmp': return 'image/bmp';
    case 'webp': return 'image/webp';
    case 'gif': return 'image/gif';
    case 'tiff': return 'image/tiff';
    default: return 'application/octet-stream';
  }
}

/**
 * GET the image. Errors are the reference's: a URL that is not http(s) is InvalidImage.URL,
 * non-ASCII characters (URL地址中不能包含中文字符) are IllegalUrlParameter, any transport failure,
 * timeout or non-2xx status is InvalidImage.Download, a body above the limit is InvalidParameter.TooLarge.
 */
export async function downloadImage(
  url: string,
  paramName: string,
  maxBytes: number,
  timeoutMs: number,
  /** where to fetch a URL that only exists in a test (e.g. an OSS emulator's bucket host); undefined: the URL itself */
  route: (url: URL) => string | undefined = () => undefined,
): Promise<Buffer> {
  // eslint-disable-next-line no-control-regex
  if (/[^\x00-\x7f]/.test(url)) {
    throw aliError('IllegalUrlParameter', `${paramName} must not contain non-ASCII characters.`);
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw aliError('InvalidImage.URL', `${paramName} is not a valid URL: ${url}`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw aliError('InvalidImage.URL', `${paramName} must be an http or https URL: ${url}`);
  }
  let response: Response;
  try {
    response = await fetch(route(parsed) ?? parsed, { signal: AbortSignal.timeout(timeoutMs), redirect: 'follow' });
  } catch (err) {
    const reason = err instanceof Error && err.name === 'TimeoutError' ? `timed out after ${timeoutMs} ms` : String((err as Error)?.message ?? err);
    throw aliError('InvalidImage.Download', `${paramName}: ${url} (${reason})`);
  }
  if (!response.ok || !response.body) {
    await response.body?.cancel().catch(() => undefined);
    throw aliError('InvalidImage.Download', `${paramName}: ${url} (HTTP ${response.status})`);
  }
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      total += chunk.byteLength;
      if (total > maxBytes) {
        throw aliError('InvalidParameter.TooLarge', `${paramName} is larger than ${formatBytes(maxBytes)}.`);
      }
      chunks.push(Buffer.from(chunk));
    }
  } catch (err) {
    if (err instanceof AliError) throw err;
    throw aliError('InvalidImage.Download', `${paramName}: ${url} (${String((err as Error)?.message ?? err)})`);
  }
  return Buffer.concat(chunks);
}

function formatBytes(n: number): string {
  return n % MB === 0 ? `${n / MB} MB` : `${(n / MB).toFixed(1)} MB`;
}

/** Check format / size / resolution against the limits, then decode to RGBA. */
export async function decodeImage(bytes: Buffer, limits: ImageLimits, paramName: string): Promise<Raster> {
  if (bytes.length === 0) throw aliError('InvalidImage.Content', `${paramName} is empty.`);
  if (bytes.length > limits.maxBytes) {
    throw aliError('InvalidParameter.TooLarge', `${paramName} is larger than ${formatBytes(limits.maxBytes)}.`);
  }
  const format = sniffFormat(bytes);
  if (!format) throw aliError('InvalidImage.Content', `${paramName} is not a recognisable image.`);
  if (!limits.formats.includes(format)) {
    throw aliError('InvalidImage.Content', `${paramName}: image format ${format.toUpperCase()} is not supported (supported: ${limits.formats.map((f) => f.toUpperCase()).join(', ')}).`);
  }
  let raster: Raster;
  try {
    raster = format === 'bmp' ? decodeBmp(bytes) : await decodeWithSharp(bytes, format);
  } catch (err) {
    if (err instanceof AliError) throw err;
    throw aliError('InvalidImage.Content', `${paramName} could not be decoded (${String((err as Error)?.message ?? err)}).`);
  }
  const { width, height } = raster;
  const tooSmall = limits.minSide !== undefined && (width <= limits.minSide || height <= limits.minSide);
  const tooBig = limits.maxSide !== undefined && (width >= limits.maxSide || height >= limits.maxSide);
  if (tooSmall || tooBig) {
    const range = [
      limits.minSide !== undefined ? `greater than ${limits.minSide}x${limits.minSide}` : '',
      limits.maxSide !== undefined ? `less than ${limits.maxSide}x${limits.maxSide}` : '',
    ].filter(Boolean).join(' and ');
    throw aliError('InvalidImage.Resolution', `${paramName} is ${width}x${height}; it must be ${range} pixels.`);
  }
  if (limits.aspect) {
    const ratio = width / height;
    if (ratio < limits.aspect[0] || ratio > limits.aspect[1]) {
      throw aliError('InvalidImage.Resolution', `${paramName} is ${width}x${height}; width/height must be between ${limits.aspect[0]} and ${limits.aspect[1]}.`);
    }
  }
  return raster;
}

async function decodeWithSharp(bytes: Buffer, format: ImageFormat): Promise<Raster> {
  const image = sharp(bytes, { failOn: 'error', animated: false });
  const meta = await image.metadata();
  const { data, info } = await image.ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  if (info.channels !== 4) throw new Error(`unexpected channel count ${info.channels}`);
  return { width: info.width, height: info.height, data, hasAlpha: Boolean(meta.hasAlpha), format };
}

/** Uncompressed BMP (1/4/8-bit paletted, 24-bit, 32-bit BI_RGB or BI_BITFIELDS) to RGBA. */
export function decodeBmp(bytes: Buffer): Raster {
  const pixelOffset = bytes.readUInt32LE(10);
  const dibSize = bytes.readUInt32LE(14);
  if (dibSize < 40) throw new Error('unsupported BMP header');
  const width = bytes.readInt32LE(18);
  const rawHeight = bytes.readInt32LE(22);
  const bpp = bytes.readUInt16LE(28);
  const compression = bytes.readUInt32LE(30);
  const height = Math.abs(rawHeight);
  const topDown = rawHeight < 0;
  if (width <= 0 || height <= 0) throw new Error('invalid BMP dimensions');
  if (!(compression === 0 || (compression === 3 && (bpp === 32 || bpp === 16)))) throw new Error(`compressed BMP (${compression}) is not supported`);
  const rowSize = Math.floor((bpp * width + 31) / 32) * 4;
  if (pixelOffset + rowSize * height > bytes.length) throw new Error('truncated BMP');
  const out = Buffer.alloc(width * height * 4);
  let palette: Buffer | null = null;
  if (bpp <= 8) {
    const colours = bytes.readUInt32LE(46) || 1 << bpp;
    palette = bytes.subarray(14 + dibSize, 14 + dibSize + colours * 4);
  }
  let masks: [number, number, number, number] = bpp === 16 ? [0x7c00, 0x03e0, 0x001f, 0] : [0x00ff0000, 0x0000ff00, 0x000000ff, 0];
  let hasAlpha = false;
  if (compression === 3) {
    const at = dibSize >= 52 ? 54 : 14 + dibSize;
    masks = [bytes.readUInt32LE(at), bytes.readUInt32LE(at + 4), bytes.readUInt32LE(at + 8), dibSize >= 56 ? bytes.readUInt32LE(at + 12) : 0];
  }
  if (bpp === 32 && compression === 0) masks = [0x00ff0000, 0x0000ff00, 0x000000ff, 0];
  const channel = (value: number, mask: number): number => {
    if (mask === 0) return 255;
    let shift = 0;
    while (((mask >>> shift) & 1) === 0) shift++;
    const max = mask >>> shift;
    return Math.round((((value & mask) >>> shift) * 255) / max);
  };
  if (bpp === 32 && masks[3] !== 0) hasAlpha = true;
  for (let y = 0; y < height; y++) {
    const row = pixelOffset + (topDown ? y : height - 1 - y) * rowSize;
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 4;
      if (bpp === 24) {
        const p = row + x * 3;
        out[o] = bytes[p + 2]!; out[o + 1] = bytes[p + 1]!; out[o + 2] = bytes[p]!; out[o + 3] = 255;
      } else if (bpp === 32 || bpp === 16) {
        const v = bpp === 32 ? bytes.readUInt32LE(row + x * 4) : bytes.readUInt16LE(row + x * 2);
        out[o] = channel(v, masks[0]); out[o + 1] = channel(v, masks[1]); out[o + 2] = channel(v, masks[2]);
        out[o + 3] = masks[3] ? channel(v, masks[3]) : 255;
      } else if (palette && (bpp === 8 || bpp === 4 || bpp === 1)) {
        const bitPos = x * bpp;
        const byte = bytes[row + (bitPos >> 3)];
        const index = (byte >> (8 - bpp - (bitPos & 7))) & ((1 << bpp) - 1);
        out[o] = palette[index * 4 + 2] ?? 0; out[o + 1] = palette[index * 4 + 1] ?? 0; out[o + 2] = palette[index * 4] ?? 0; out[o + 3] = 255;
      } else {
        throw new Error(`unsupported BMP bit depth ${bpp}`);
      }
    }
  }
  return { width, height, data: out, hasAlpha, format: 'bmp' };
}

/** 4-channel PNG. */
export function encodeRgbaPng(width: number, height: number, rgba: Buffer): Promise<Buffer> {
  return sharp(rgba, { raw: { width, height, channels: 4 } }).png().toBuffer();
}

/** 3-channel PNG. */
export function encodeRgbPng(width: number, height: number, rgb: Buffer): Promise<Buffer> {
  return sharp(rgb, { raw: { width, height, channels: 3 } }).png().toBuffer();
}

/** Single-channel (grey) PNG: Alibaba's "单通道黑白图" mask. */
export function encodeGrayPng(width: number, height: number, gray: Uint8Array): Promise<Buffer> {
  return sharp(Buffer.from(gray.buffer, gray.byteOffset, gray.byteLength), { raw: { width, height, channels: 1 } })
    .toColourspace('b-w')
    .png()
    .toBuffer();
}

export function encodeRgbJpeg(width: number, height: number, rgb: Buffer): Promise<Buffer> {
  return sharp(rgb, { raw: { width, height, channels: 3 } }).jpeg({ quality: 92 }).toBuffer();
}

/** Resize an RGBA raster to exactly width×height (cover + centre crop), as raw RGBA. */
export async function resizeCover(r: Raster, width: number, height: number): Promise<Buffer> {
  return sharp(r.data, { raw: { width: r.width, height: r.height, channels: 4 } })
    .resize(width, height, { fit: 'cover', position: 'centre' })
    .raw()
    .toBuffer();
}

/** Resize a single-channel mask to width×height (nearest neighbour keeps it binary). */
export async function resizeMask(mask: Uint8Array, fromW: number, fromH: number, width: number, height: number): Promise<Uint8Array> {
  if (fromW === width && fromH === height) return mask;
  const buf = await sharp(Buffer.from(mask.buffer, mask.byteOffset, mask.byteLength), { raw: { width: fromW, height: fromH, channels: 1 } })
    .resize(width, height, { fit: 'fill', kernel: 'nearest' })
    .raw()
    .toBuffer();
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}
