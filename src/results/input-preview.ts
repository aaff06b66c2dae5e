import type { LoadedImage } from '../images/load.js';
import { loadSharp } from '../images/sharp.js';
import type { ResultStore, StoredResult } from './result-store.js';

/** The input's long side in the preview: enough to compare with the result in a chat-sized view. */
const PREVIEW_SIDE = 800;
/** A PNG or WebP input up to this size is kept as it is: no decode, one write (most calls, and every benchmark call). */
const KEPT_AS_IS_BYTES = 256 * 1024;
/** JPEG is re-encoded whatever its size: a browser would turn it by its EXIF orientation, which the provider ignores. */
const KEPT_FORMATS = new Set(['png', 'webp']);

/**
 * A copy of the call's input kept like a result, for the MCP App view to show beside the result (the "before" of
 * its slider): hosts read it as a result resource, never by URL. Scaled down to PREVIEW_SIDE, alpha kept.
 */
export async function saveInputPreview(image: LoadedImage, results: ResultStore): Promise<StoredResult> {
  const small = Math.max(image.width, image.height) <= PREVIEW_SIDE && image.bytes.length <= KEPT_AS_IS_BYTES;
  if (small && KEPT_FORMATS.has(image.format)) return results.save(image.bytes, image.mimeType);
  const sharp = await loadSharp();
  const bytes = await sharp(image.bytes).resize(PREVIEW_SIDE, PREVIEW_SIDE, { fit: 'inside', withoutEnlargement: true }).webp({ quality: 80 }).toBuffer();
  return results.save(bytes, 'image/webp');
}
