import { loadSharp } from './sharp.js';
import { mediaTypeOfExtension } from './media-types.js';
import type { OutputOptions } from '../catalog/output-options.js';

const COLOURS: Record<string, string> = { white: '#ffffff', black: '#000000' };
const TRANSPARENT = { r: 0, g: 0, b: 0, alpha: 0 };

export interface TransformedImage {
  bytes: Buffer;
  mimeType: string;
  width: number;
  height: number;
}

/** Crop to subject, fit to a target size, put a background behind, re-encode: in that order. */
export async function transformResult(bytes: Buffer, options: OutputOptions): Promise<TransformedImage> {
  const sharp = await loadSharp();
  const background = options.background && options.background !== 'transparent' ? COLOURS[options.background] ?? options.background : undefined;
  const format = options.format ?? 'png';
  let image = sharp(bytes).rotate();
  if (options.cropMargin !== undefined) {
    // trim() removes edges of the top-left pixel's colour: transparent around a cutout, black around a mask.
    const trimmed = await image.trim({ threshold: 8 }).toBuffer();
    const margin = options.cropMargin;
    image = sharp(trimmed).extend({ top: margin, bottom: margin, left: margin, right: margin, background: TRANSPARENT });
  }
  if (options.width !== undefined || options.height !== undefined) {
    image = sharp(await image.toBuffer()).resize({ width: options.width, height: options.height, fit: 'contain', background: TRANSPARENT });
  }
  const flattenOnto = background ?? (format === 'jpg' ? COLOURS.white : undefined);
  // sharp flattens before it resizes within one pipeline; the letterbox must exist before it gets a colour.
  if (flattenOnto) image = sharp(await image.png().toBuffer()).flatten({ background: flattenOnto });
  const encoded = format === 'jpg' ? image.jpeg({ quality: 92 }) : format === 'webp' ? image.webp({ quality: 90 }) : image.png();
  const { data, info } = await encoded.toBuffer({ resolveWithObject: true });
  return { bytes: data, mimeType: mediaTypeOfExtension(format), width: info.width, height: info.height };
}
