import type { ResultImage } from './types.js';
import { loadSharp } from '../images/sharp.js';

export const base64Length = (bytes: number) => Math.ceil(bytes / 3) * 4;

/**
 * A smaller copy of a result for a model's context: scaled down (transparency kept) until its base64 is at most
 * `maxBase64Bytes`. Also says the sizes, for the note that tells the model it is looking at a preview.
 */
export async function previewWithin(image: ResultImage, maxBase64Bytes: number): Promise<{ image: ResultImage; from: string; to: string }> {
  const sharp = await loadSharp();
  const metadata = await sharp(image.bytes).metadata();
  const width = metadata.width ?? 1;
  const height = metadata.height ?? 1;
  let scale = Math.sqrt(maxBase64Bytes / base64Length(image.bytes.length));
  for (let round = 0; round < 10; round += 1) {
    const target = { width: Math.max(1, Math.floor(width * scale)), height: Math.max(1, Math.floor(height * scale)) };
    const bytes = await sharp(image.bytes).resize(target.width, target.height, { fit: 'fill' }).png({ compressionLevel: 9, palette: round >= 3 }).toBuffer();
    if (base64Length(bytes.length) <= maxBase64Bytes) {
      return { image: { ...image, mimeType: 'image/png', bytes }, from: `${width}x${height}`, to: `${target.width}x${target.height}` };
    }
    scale *= 0.75;
  }
  const bytes = await sharp(image.bytes).resize(64, 64, { fit: 'inside' }).png({ palette: true }).toBuffer();
  return { image: { ...image, mimeType: 'image/png', bytes }, from: `${width}x${height}`, to: 'a thumbnail' };
}
