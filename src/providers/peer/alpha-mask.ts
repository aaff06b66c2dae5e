import { AppError } from '../../errors.js';
import { fetchImageBytes, redactUrl, type FetchOptions } from '../../fetch/fetch-url.js';
import { loadSharp } from '../../images/sharp.js';
import type { ResultStore } from '../../results/result-store.js';
import type { ResultImage } from '../../results/types.js';

const MAX_RESULT_BYTES = 64 * 1024 * 1024;

/**
 * ReturnForm "mask" from a provider that only returns cutouts: its transparent result fetched under the same guard
 * as every image, its alpha channel written as a single-channel PNG and kept in the result store.
 */
export async function maskFromCutout(url: string, field: string, options: { images: FetchOptions; results: ResultStore; provider: string }): Promise<ResultImage> {
  const bytes = await fetchImageBytes(url, field, MAX_RESULT_BYTES, options.images).catch((error: unknown) => {
    if (options.images.signal?.aborted) throw options.images.signal.reason;
    throw new AppError('UPSTREAM_ERROR', `Could not fetch ${options.provider}'s result image: ${(error as Error).message}`, { retryable: true, details: { provider: options.provider, url: redactUrl(url) }, cause: error });
  });
  const sharp = await loadSharp();
  const mask = await sharp(bytes)
    .ensureAlpha()
    .extractChannel(3)
    .toColourspace('b-w')
    .png()
    .toBuffer()
    .catch((error: unknown) => {
      throw new AppError('UPSTREAM_ERROR', `${options.provider}'s result at ${redactUrl(url)} is not a readable image`, { retryable: true, details: { provider: options.provider }, cause: error });
    });
  const stored = await options.results.save(mask, 'image/png');
  return { field, url: stored.url, mimeType: 'image/png', bytes: mask };
}
