import type { FittedImage } from './fit.js';
import { loadSharp } from './sharp.js';

/**
 * A result computed on a fitted (smaller) input, brought back to the caller's image: a cutout's alpha is scaled up and
 * applied to the original pixels, a mask is scaled up, anything else (a white-background image) is scaled up.
 * Undefined when the result's shape is not the input's (a crop, a part): it is then returned as it came.
 */
export async function restoreToOriginal(bytes: Buffer, fitted: FittedImage): Promise<{ bytes: Buffer; mimeType: string } | undefined> {
  const sharp = await loadSharp();
  const { original, sent } = fitted;
  const metadata = await sharp(bytes).metadata();
  if (!metadata.width || !metadata.height) return undefined;
  const sameShape = Math.abs(metadata.width / metadata.height - sent.width / sent.height) < 0.02 && Math.abs(metadata.width - sent.width) <= 2;
  if (!sameShape) return undefined;
  const { width, height } = original;
  const channels = metadata.channels ?? 3;
  if (channels === 4 || channels === 2) {
    const alpha = await sharp(bytes).ensureAlpha().extractChannel(channels === 4 ? 3 : 1).resize(width, height, { fit: 'fill', kernel: 'cubic' }).raw().toBuffer();
    const pixels = await sharp(original.bytes).rotate().resize(width, height, { fit: 'fill' }).removeAlpha().raw().toBuffer();
    const out = await sharp(pixels, { raw: { width, height, channels: 3 } })
      .joinChannel(alpha, { raw: { width, height, channels: 1 } })
      .png()
      .toBuffer();
    return { bytes: out, mimeType: 'image/png' };
  }
  if (channels === 1) {
    const out = await sharp(bytes).extractChannel(0).resize(width, height, { fit: 'fill', kernel: 'cubic' }).toColourspace('b-w').png().toBuffer();
    return { bytes: out, mimeType: 'image/png' };
  }
  const resized = sharp(bytes).resize(width, height, { fit: 'fill', kernel: 'cubic' });
  const jpeg = metadata.format === 'jpeg';
  return { bytes: await (jpeg ? resized.jpeg({ quality: 92 }) : resized.png()).toBuffer(), mimeType: jpeg ? 'image/jpeg' : 'image/png' };
}
