import { AppError } from '../errors.js';
import type { ImageFormat, ImageLimits } from '../catalog/capability.js';
import { loadSharp } from './sharp.js';
import { inspectBmp } from './bmp.js';
import { probeImage } from './probe.js';

const SHARP_FORMATS: Record<string, ImageFormat> = { jpeg: 'jpeg', png: 'png', webp: 'webp', gif: 'gif', tiff: 'tiff' };
/** The largest image any Action accepts is 10000 x 10000. */
const MAX_PIXELS = 10_000 * 10_000;

export interface ImageFacts {
  format: ImageFormat;
  width: number;
  height: number;
}

function unsupported(field: string, name: string | undefined): AppError {
  return new AppError('IMAGE_INVALID', `${field}: unsupported image format ${name ?? 'unknown'}`, { details: { field } });
}

function unreadable(field: string, error: Error): AppError {
  return new AppError('IMAGE_INVALID', `${field}: not a readable image (${error.message})`, { details: { field }, cause: error });
}

/** Format and displayed size from the header alone (an image the provider fetches or decodes itself). */
export async function headerFacts(field: string, bytes: Buffer): Promise<ImageFacts> {
  const probed = await probeImage(bytes).catch((error: Error) => {
    throw unreadable(field, error);
  });
  if (!probed.format || !probed.width || !probed.height) throw unsupported(field, probed.type);
  return { format: probed.format, width: probed.width, height: probed.height };
}

/** Format and displayed size as sharp reads them (the image will be decoded: uploaded, fitted or run here). */
export async function sharpFacts(field: string, bytes: Buffer): Promise<ImageFacts> {
  const sharp = await loadSharp();
  const metadata = await Promise.resolve().then(() => sharp(bytes, { limitInputPixels: false }).metadata()).catch((error: Error) => {
    throw unreadable(field, error);
  });
  const detected = SHARP_FORMATS[metadata.format ?? ''];
  if (!detected || !metadata.width || !metadata.height) throw unsupported(field, metadata.format);
  const rotated = (metadata.orientation ?? 1) >= 5;
  return { format: detected, width: rotated ? metadata.height : metadata.width, height: rotated ? metadata.width : metadata.height };
}

/**
 * Headers can lie: a truncated or corrupt body only shows when the pixels are decoded. Decoding into a tiny
 * thumbnail streams through the image with bounded memory; the pixel cap refuses decompression bombs.
 */
export async function checkDecodes(field: string, bytes: Buffer, limits: ImageLimits): Promise<void> {
  const sharp = await loadSharp();
  const maxPixels = Math.min(limits.maxSide ? limits.maxSide * limits.maxSide : MAX_PIXELS, MAX_PIXELS);
  await sharp(bytes, { failOn: 'truncated', limitInputPixels: maxPixels, sequentialRead: true })
    .resize(32, 32, { fit: 'inside' })
    .raw()
    .toBuffer()
    .catch((error: Error) => {
      throw new AppError('IMAGE_INVALID', `${field}: the image does not decode (${error.message})`, { details: { field }, cause: error });
    });
}

export function bmpHeader(field: string, bytes: Buffer): { width: number; height: number } {
  try {
    return inspectBmp(bytes, { header: true });
  } catch (error) {
    throw new AppError('IMAGE_INVALID', `${field}: not a readable BMP (${(error as Error).message})`, { details: { field }, cause: error });
  }
}

/** BMP is not sharp's: the pixel data is walked (never expanded) to prove it is all there, as checkDecodes does for the rest. */
export function checkBmpDecodes(field: string, bytes: Buffer): void {
  try {
    inspectBmp(bytes);
  } catch (error) {
    throw new AppError('IMAGE_INVALID', `${field}: the image does not decode (${(error as Error).message})`, { details: { field }, cause: error });
  }
}

export function checkAgainstLimits(field: string, action: string, image: { format: ImageFormat; width: number; height: number }, limits: ImageLimits): void {
  const fail = (message: string, details: Record<string, unknown>) =>
    new AppError('IMAGE_INVALID', `${field}: ${message} for ${action}`, { details: { field, ...details } });
  if (!limits.formats.includes(image.format)) {
    throw fail(`format ${image.format} is not accepted (${limits.formats.join(', ')})`, { format: image.format, formats: limits.formats });
  }
  const longSide = Math.max(image.width, image.height);
  const shortSide = Math.min(image.width, image.height);
  if (limits.maxSide && longSide > limits.maxSide) {
    throw fail(`${image.width}x${image.height} px exceeds ${limits.maxSide} px per side`, { width: image.width, height: image.height, maxSide: limits.maxSide });
  }
  if (limits.minSide && shortSide < limits.minSide) {
    throw fail(`${image.width}x${image.height} px is below ${limits.minSide} px per side`, { width: image.width, height: image.height, minSide: limits.minSide });
  }
  if (limits.maxAspectRatio && longSide / shortSide > limits.maxAspectRatio) {
    throw fail(`aspect ratio ${(longSide / shortSide).toFixed(2)} exceeds ${limits.maxAspectRatio}`, { width: image.width, height: image.height, maxAspectRatio: limits.maxAspectRatio });
  }
}
