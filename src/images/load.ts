import { AppError } from '../errors.js';
import type { ImageFormat, ImageLimits } from '../catalog/capability.js';
import { fetchImageBytes, type FetchOptions } from '../fetch/fetch-url.js';
import { describeBytes } from '../fetch/sizes.js';
import { isBmp } from './bmp.js';
import { MIME_TYPES } from './media-types.js';
import { bmpHeader, checkAgainstLimits, checkBmpDecodes, checkDecodes, headerFacts, sharpFacts } from './checks.js';
import { readAllowedFile } from './local-file.js';
import { classifyImageSource, type ImageSource } from './source.js';

export interface LoadedImage {
  bytes: Buffer;
  format: ImageFormat;
  mimeType: string;
  width: number;
  height: number;
  /** The http(s) URL the image came from, when it came from one. */
  sourceUrl?: string;
  /** The local file the image came from (stdio), when it came from one. */
  sourcePath?: string;
}

export interface ImageLoadOptions extends FetchOptions {
  /** Directories local files may be read from; empty means local files are refused (HTTP mode). */
  fileRoots: readonly string[];
  /** Files and folders results are never written onto or into: the ledger (its folder when that is its own), stored results. */
  protectedPaths?: readonly string[];
  /**
   * URLs the provider sends on as they are (Provider.passesThrough): such an image is fetched under the same guard
   * and checked from its header (format, size, dimensions) without a decode, since its bytes are never ours to send.
   */
  passesThrough?: (url: string) => boolean;
  /** The provider decodes the image itself and refuses a broken one (Provider.decodesImages): checked from its header. */
  decodedByProvider?: boolean;
}

async function readSource(field: string, source: ImageSource, limits: ImageLimits, options: ImageLoadOptions) {
  switch (source.kind) {
    case 'url':
      return fetchImageBytes(source.url.href, field, limits.maxBytes, options);
    case 'inline':
      return source.bytes;
    case 'file':
      return readAllowedFile(field, source.path, options.fileRoots, limits.maxBytes, options.timeoutMs);
  }
}

/** Fetches or decodes one image argument and checks it against the Action's limits before any money is spent. */
export async function loadImage(field: string, value: string, limits: ImageLimits, action: string, options: ImageLoadOptions): Promise<LoadedImage> {
  const source = classifyImageSource(field, value);
  const bytes = await readSource(field, source, limits, options);
  if (bytes.length === 0) {
    throw new AppError('IMAGE_INVALID', `${field}: the image is empty (0 bytes)`, { details: { field } });
  }
  if (bytes.length > limits.maxBytes) {
    throw new AppError('IMAGE_TOO_LARGE', `${field}: ${describeBytes(bytes.length)} > ${describeBytes(limits.maxBytes)} for ${action}`, {
      details: { field, bytes: bytes.length, limitBytes: limits.maxBytes },
    });
  }
  const headerOnly = options.decodedByProvider === true || (source.kind === 'url' && options.passesThrough?.(source.url.href) === true);
  const { format, width, height } = isBmp(bytes) ? { format: 'bmp' as const, ...bmpHeader(field, bytes) } : headerOnly ? await headerFacts(field, bytes) : await sharpFacts(field, bytes);
  checkAgainstLimits(field, action, { format, width, height }, limits);
  // BMP's walk is cheap and reads no pixels, so even a header-only BMP is walked.
  if (format === 'bmp') checkBmpDecodes(field, bytes);
  else if (!headerOnly) await checkDecodes(field, bytes, limits);
  return {
    bytes,
    format,
    mimeType: MIME_TYPES[format],
    width,
    height,
    ...(source.kind === 'url' ? { sourceUrl: source.url.href } : {}),
    ...(source.kind === 'file' ? { sourcePath: source.path } : {}),
  };
}
