import type { ImageFormat, ImageLimits } from '../catalog/capability.js';
import { AppError } from '../errors.js';
import { describeBytes } from '../fetch/sizes.js';
import type { LoadedImage } from './load.js';
import { MIME_TYPES } from './media-types.js';
import { loadSharp } from './sharp.js';

/** What was sent instead of the caller's image, so the result can be brought back to the original's size. */
export interface FittedImage {
  field: string;
  action: string;
  original: LoadedImage;
  sent: LoadedImage;
}


/** The limits a caller's image is taken under: as large as we can bring down to the Action's own limits. */
export function sourceLimits(limits: ImageLimits, sourceMaxBytes: number): ImageLimits {
  return { ...limits, maxBytes: Math.max(limits.maxBytes, sourceMaxBytes), maxSide: limits.maxSide === undefined ? undefined : Math.max(limits.maxSide, 10_000) };
}

function fits(image: LoadedImage, limits: ImageLimits): boolean {
  return image.bytes.length <= limits.maxBytes && (limits.maxSide === undefined || Math.max(image.width, image.height) <= limits.maxSide);
}

/** An encoding the Action takes, keeping transparency when the image has it. */
function encodingFor(image: LoadedImage, limits: ImageLimits, hasAlpha: boolean, forceLossy: boolean): ImageFormat {
  const accepted = limits.formats;
  if (!forceLossy && (image.format === 'png' || image.format === 'webp' || image.format === 'jpeg') && accepted.includes(image.format)) return image.format;
  if (hasAlpha && !forceLossy && accepted.includes('png')) return 'png';
  if (accepted.includes('jpeg') && !hasAlpha) return 'jpeg';
  if (accepted.includes('webp')) return 'webp';
  return accepted.includes('png') ? 'png' : 'jpeg';
}

/**
 * Brings an image within an Action's pixel and byte limits: scaled down to the largest side allowed and re-encoded,
 * smaller and lossier each round until it fits. Undefined when it already fits.
 */
export async function fitToLimits(field: string, image: LoadedImage, limits: ImageLimits, action: string): Promise<FittedImage | undefined> {
  if (fits(image, limits)) return undefined;
  if (image.format === 'bmp') {
    // sharp cannot read BMP: say what to do instead of failing inside the resize.
    throw new AppError('IMAGE_TOO_LARGE', `${field}: a ${image.width}x${image.height} BMP (${describeBytes(image.bytes.length)}) is over ${action}'s limits and BMP cannot be scaled down here; send it as PNG or JPEG`, {
      details: { field, bytes: image.bytes.length, limitBytes: limits.maxBytes, ...(limits.maxSide ? { maxSide: limits.maxSide } : {}) },
    });
  }
  return scaleDown(field, image, limits, action).catch((error: Error) => {
    if (error instanceof AppError) throw error;
    // A passed-on URL's image was checked by its header only: its pixels are first read here.
    throw new AppError('IMAGE_INVALID', `${field}: the image does not decode (${error.message})`, { details: { field }, cause: error });
  });
}

async function scaleDown(field: string, image: LoadedImage, limits: ImageLimits, action: string): Promise<FittedImage> {
  const sharp = await loadSharp();
  const metadata = await sharp(image.bytes).metadata();
  const hasAlpha = Boolean(metadata.hasAlpha);
  const longSide = Math.max(image.width, image.height);
  // The reference's sides are exclusive ("smaller than 1280x1280"): one pixel under, as Alibaba checks it.
  let scale = limits.maxSide && longSide > limits.maxSide - 1 ? (limits.maxSide - 1) / longSide : 1;
  for (let round = 0; round < 8; round += 1) {
    const width = Math.max(1, Math.floor(image.width * scale));
    const height = Math.max(1, Math.floor(image.height * scale));
    const format = encodingFor(image, limits, hasAlpha, round >= 2);
    const pipeline = sharp(image.bytes).rotate().resize(width, height, { fit: 'fill' });
    const quality = Math.max(60, 92 - round * 6);
    const encoded = format === 'jpeg' ? pipeline.jpeg({ quality }) : format === 'webp' ? pipeline.webp({ quality, alphaQuality: 100 }) : pipeline.png({ compressionLevel: 9 });
    const bytes = await encoded.toBuffer();
    const sent: LoadedImage = { bytes, format, mimeType: MIME_TYPES[format], width, height };
    if (fits(sent, limits)) return { field, action, original: image, sent };
    scale *= round >= 2 ? 0.8 : 1;
  }
  throw new AppError('IMAGE_TOO_LARGE', `${field}: could not bring ${describeBytes(image.bytes.length)} under ${describeBytes(limits.maxBytes)} for ${action}; send a smaller image`, {
    details: { field, bytes: image.bytes.length, limitBytes: limits.maxBytes },
  });
}

/** What the answer's content says about a fitted input. */
export function fittedNote(fitted: FittedImage): string {
  const { original, sent, action } = fitted;
  return `${fitted.field} was ${original.width}x${original.height} (${describeBytes(original.bytes.length)}), over ${action}'s limits: sent as ${sent.width}x${sent.height}, and the result scaled back to ${original.width}x${original.height}`;
}
