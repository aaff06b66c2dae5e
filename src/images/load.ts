import http from 'node:http';
import path from 'node:path';
import { constants as fsConstants } from 'node:fs';
import { lstat, open, realpath } from 'node:fs/promises';
import { isInside, resolvePlaces } from './places.js';
import { httpsModule } from './https-module.js';
import { fileURLToPath } from 'node:url';
import { loadSharp } from './sharp.js';
import { AppError } from '../errors.js';
import type { ImageFormat, ImageLimits } from '../catalog/capability.js';
import { addressRefusal, guardedLookup, isPublicAddress, resolveChecked, type HostResolver } from './address-guard.js';
import { keptAliveAgent, type CheckedAddresses } from './kept-alive-agent.js';
import { inspectBmp, isBmp } from './bmp.js';
import { probeImage } from './probe.js';
import { isIP } from 'node:net';

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

export interface ImageLoadOptions {
  allowPrivateUrls: boolean;
  /** Directories local files may be read from; empty means local files are refused (HTTP mode). */
  fileRoots: readonly string[];
  timeoutMs: number;
  maxRedirects: number;
  /** How host names become addresses (each one checked); default the system resolver. Tests map made-up names. */
  resolve?: HostResolver;
  /** Files and folders results are never written onto or into: the ledger (its folder when that is its own), stored results. */
  protectedPaths?: readonly string[];
  /** The call's signal: a cancelled call stops fetching at once. */
  signal?: AbortSignal;
  /**
   * URLs the provider sends on as they are (Provider.passesThrough): such an image is fetched under the same guard
   * and checked from its header (format, size, dimensions) without a decode, since its bytes are never ours to send.
   */
  passesThrough?: (url: string) => boolean;
  /** The provider decodes the image itself and refuses a broken one (Provider.decodesImages): checked from its header. */
  decodedByProvider?: boolean;
}

const SHARP_FORMATS: Record<string, ImageFormat> = { jpeg: 'jpeg', png: 'png', webp: 'webp', gif: 'gif', tiff: 'tiff' };
export const MIME_TYPES: Record<ImageFormat, string> = {
  jpeg: 'image/jpeg', png: 'image/png', bmp: 'image/bmp', webp: 'image/webp', gif: 'image/gif', tiff: 'image/tiff',
};
const MB = 1024 * 1024;
/** The largest image any Action accepts is 10000 x 10000. */
const MAX_PIXELS = 10_000 * 10_000;

/** A URL as it may be shown and logged: user name and password removed. */
export function redactUrl(url: URL | string): string {
  let parsed: URL;
  try {
    parsed = typeof url === 'string' ? new URL(url) : new URL(url.href);
  } catch {
    return String(url).replace(/\/\/[^/@]*@/, '//');
  }
  if (!parsed.username && !parsed.password) return parsed.href;
  parsed.username = '';
  parsed.password = '';
  return parsed.href;
}

export function describeBytes(bytes: number): string {
  return bytes >= MB ? `${(bytes / MB).toFixed(1)} MB` : `${Math.ceil(bytes / 1024)} KB`;
}

/** Where the image comes from, decided from the argument's spelling alone. */
export type ImageSource =
  | { kind: 'url'; url: URL }
  | { kind: 'inline'; bytes: Buffer }
  | { kind: 'file'; path: string };

export function classifyImageSource(field: string, value: string): ImageSource {
  const trimmed = value.trim();
  if (/^https?:\/\//i.test(trimmed)) {
    try {
      return { kind: 'url', url: new URL(trimmed) };
    } catch {
      throw new AppError('INVALID_ARGUMENT', `${field}: not a valid URL`, { details: { field } });
    }
  }
  const dataUrl = /^data:([\w.+-]+\/[\w.+-]+)?(;[\w=.+-]+)*;base64,(.*)$/is.exec(trimmed);
  if (dataUrl) return { kind: 'inline', bytes: Buffer.from(dataUrl[3], 'base64') };
  if (/^file:\/\//i.test(trimmed)) return { kind: 'file', path: fileURLToPath(trimmed) };
  if (/^[A-Za-z0-9+/=\s_-]+$/.test(trimmed) && trimmed.length >= 64) return { kind: 'inline', bytes: Buffer.from(trimmed, 'base64') };
  const looksLikeImageFile = /^[^\s]+\.(jpe?g|png|bmp|webp|gif|tiff?)$/i.test(trimmed);
  if (path.isAbsolute(trimmed) || trimmed.startsWith('./') || trimmed.startsWith('../') || looksLikeImageFile) return { kind: 'file', path: trimmed };
  throw new AppError('INVALID_ARGUMENT', `${field}: expected an http(s) URL, a data: URL or base64 image data`, {
    details: { field },
  });
}

function unreachableAt(url: URL, field: string) {
  return (reason: string, cause?: unknown) =>
    new AppError('IMAGE_UNREACHABLE', `${field}: could not fetch ${redactUrl(url)}: ${reason}`, {
      details: { field, url: redactUrl(url) },
      cause,
    });
}

function refusalReason(error: NodeJS.ErrnoException): string {
  return error.code === 'ADDRESS_REFUSED' ? 'private or loopback addresses are refused' : error.message;
}

/**
 * Every request checks its address first: an IP literal as it is, a host name by resolving it and checking every
 * answer. The connection then goes to those answers only, on a kept-alive socket pooled under exactly them.
 */
async function fetchBytes(url: URL, field: string, maxBytes: number, options: ImageLoadOptions, redirectsLeft: number, deadline: number): Promise<Buffer> {
  const unreachable = unreachableAt(url, field);
  const hostname = url.hostname.replace(/^\[|\]$/g, '');
  if (isIP(hostname)) {
    if (!options.allowPrivateUrls && !isPublicAddress(hostname)) throw unreachable('private or loopback addresses are refused', addressRefusal(hostname));
    return requestBytes(url, field, maxBytes, options, redirectsLeft, deadline, undefined);
  }
  const answers = await resolveChecked(hostname, options).catch((error: NodeJS.ErrnoException) => {
    throw unreachable(refusalReason(error), error);
  });
  return requestBytes(url, field, maxBytes, options, redirectsLeft, deadline, answers);
}

function requestBytes(url: URL, field: string, maxBytes: number, options: ImageLoadOptions, redirectsLeft: number, deadline: number, answers: Array<{ address: string; family: number }> | undefined): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const unreachable = unreachableAt(url, field);
    const remaining = deadline - Date.now();
    if (remaining <= 0) return reject(unreachable(`no complete answer within ${options.timeoutMs} ms`));
    const client = url.protocol === 'https:' ? httpsModule() : http;
    // A new socket connects only to the answers checked above; a pooled one was opened to the same checked answers.
    const addressed: http.RequestOptions & CheckedAddresses = answers
      ? { lookup: guardedLookup({ allowPrivateUrls: options.allowPrivateUrls, resolve: async () => answers }), checkedAddresses: answers.map((answer) => answer.address).sort().join(',') }
      : {};
    let answered = false;
    const request = client.get(url, { agent: keptAliveAgent(url.protocol), ...addressed, ...(options.signal ? { signal: options.signal } : {}), timeout: Math.min(remaining, options.timeoutMs), headers: { accept: 'image/*' } }, (response) => {
      answered = true;
      const status = response.statusCode ?? 0;
      if (status >= 300 && status < 400 && response.headers.location) {
        response.resume();
        clearTimeout(overall);
        if (redirectsLeft <= 0) return reject(unreachable('too many redirects'));
        let next: URL;
        try {
          next = new URL(response.headers.location, url);
        } catch {
          return reject(unreachable('redirect to an invalid URL'));
        }
        if (next.protocol !== 'http:' && next.protocol !== 'https:') return reject(unreachable(`redirect to ${next.protocol} refused`));
        return fetchBytes(next, field, maxBytes, options, redirectsLeft - 1, deadline).then(resolve, reject);
      }
      if (status !== 200) {
        response.resume();
        clearTimeout(overall);
        return reject(unreachable(`HTTP ${status}`));
      }
      const declared = Number(response.headers['content-length'] ?? 0);
      if (declared > maxBytes) {
        request.destroy();
        clearTimeout(overall);
        return reject(tooLarge(field, maxBytes, url));
      }
      const chunks: Buffer[] = [];
      let received = 0;
      response.on('data', (chunk: Buffer) => {
        received += chunk.length;
        if (received > maxBytes) {
          request.destroy();
          clearTimeout(overall);
          reject(tooLarge(field, maxBytes, url));
          return;
        }
        chunks.push(chunk);
      });
      response.on('end', () => {
        clearTimeout(overall);
        resolve(Buffer.concat(chunks));
      });
      response.on('error', (error) => reject(unreachable(error.message, error)));
    });
    // An idle timeout alone lets a server trickle one byte at a time forever; this bounds the whole exchange.
    const overall = setTimeout(() => request.destroy(new Error(`no complete answer within ${options.timeoutMs} ms`)), remaining);
    request.on('timeout', () => request.destroy(new Error(`no answer within ${options.timeoutMs} ms`)));
    request.on('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(overall);
      // A kept-alive socket the server closed as it was taken: asked again, on another connection.
      if (request.reusedSocket && !answered && error.code === 'ECONNRESET') return requestBytes(url, field, maxBytes, options, redirectsLeft, deadline, answers).then(resolve, reject);
      reject(unreachable(refusalReason(error), error));
    });
  });
}

/** Fetches an http(s) URL under the same guard, redirect and size rules as user inputs (used for result images too). */
export function fetchImageBytes(url: string, field: string, maxBytes: number, options: ImageLoadOptions): Promise<Buffer> {
  return fetchBytes(new URL(url), field, maxBytes, options, options.maxRedirects, Date.now() + options.timeoutMs);
}

function tooLarge(field: string, maxBytes: number, url: URL): AppError {
  return new AppError('IMAGE_TOO_LARGE', `${field}: more than ${describeBytes(maxBytes)} at ${redactUrl(url)}`, { details: { field, limitBytes: maxBytes } });
}

const KIND_NAMES: Array<[keyof import('node:fs').Stats, string]> = [
  ['isFIFO', 'a FIFO'], ['isCharacterDevice', 'a character device'], ['isBlockDevice', 'a block device'], ['isSocket', 'a socket'], ['isDirectory', 'a directory'],
];

function notRegular(field: string, filePath: string, stats: import('node:fs').Stats): AppError {
  const kind = KIND_NAMES.find(([test]) => (stats[test] as () => boolean).call(stats))?.[1] ?? 'not a regular file';
  return new AppError('IMAGE_INVALID', `${field}: ${filePath} is ${kind}; only regular image files are read`, { details: { field } });
}

/**
 * Reads a local image (stdio) without trusting it: inside the roots after resolving links, a regular file
 * (a FIFO would block, a device never ends), no larger than the Action accepts — all known before a byte is
 * read — then read to at most that size within the fetch deadline. O_NONBLOCK keeps a FIFO swapped in after
 * the check from blocking the open; fstat of the open descriptor re-checks what is actually read.
 */
async function readAllowedFile(field: string, filePath: string, fileRoots: readonly string[], maxBytes: number, timeoutMs: number): Promise<Buffer> {
  if (fileRoots.length === 0) {
    throw new AppError('INVALID_ARGUMENT', `${field}: local files are accepted only over stdio`, { details: { field } });
  }
  const resolved = await realpath(path.resolve(filePath)).catch(() => {
    throw new AppError('IMAGE_UNREACHABLE', `${field}: no such file ${filePath}`, { details: { field } });
  });
  if (!isInside(resolved, await resolvePlaces(fileRoots))) {
    throw new AppError('INVALID_ARGUMENT', `${field}: ${filePath} is outside the allowed roots (IMAGESEG_FILE_ROOTS: ${fileRoots.join(', ')}); move it under one or add its folder there`, {
      details: { field },
    });
  }
  const tooBig = (bytes: number) =>
    new AppError('IMAGE_TOO_LARGE', `${field}: ${filePath} is ${describeBytes(bytes)}, over ${describeBytes(maxBytes)}`, { details: { field, bytes, limitBytes: maxBytes } });
  const before = await lstat(resolved);
  if (!before.isFile()) throw notRegular(field, filePath, before);
  if (before.size > maxBytes) throw tooBig(before.size);
  const handle = await open(resolved, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK | fsConstants.O_NOFOLLOW).catch((error: NodeJS.ErrnoException) => {
    throw new AppError('IMAGE_UNREACHABLE', `${field}: cannot open ${filePath} (${error.code ?? error.message})`, { details: { field }, cause: error });
  });
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) throw notRegular(field, filePath, stats);
    if (stats.dev !== before.dev || stats.ino !== before.ino) {
      throw new AppError('IMAGE_UNREACHABLE', `${field}: ${filePath} changed while it was being opened`, { details: { field } });
    }
    if (stats.size > maxBytes) throw tooBig(stats.size);
    const deadline = Date.now() + timeoutMs;
    // One byte of room shows a file that grew past the limit after fstat.
    const buffer = Buffer.alloc(Math.min(stats.size, maxBytes) + 1);
    let filled = 0;
    while (filled < buffer.length) {
      if (Date.now() > deadline) throw new AppError('IMAGE_UNREACHABLE', `${field}: reading ${filePath} took over ${timeoutMs} ms`, { details: { field } });
      const { bytesRead } = await handle.read(buffer, filled, Math.min(buffer.length - filled, 1024 * 1024), filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    if (filled > maxBytes) throw tooBig(filled);
    return buffer.subarray(0, filled);
  } finally {
    await handle.close();
  }
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

interface ImageFacts {
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
async function headerFacts(field: string, bytes: Buffer): Promise<ImageFacts> {
  const probed = await probeImage(bytes).catch((error: Error) => {
    throw unreadable(field, error);
  });
  if (!probed.format || !probed.width || !probed.height) throw unsupported(field, probed.type);
  return { format: probed.format, width: probed.width, height: probed.height };
}

/** Format and displayed size as sharp reads them (the image will be decoded: uploaded, fitted or run here). */
async function sharpFacts(field: string, bytes: Buffer): Promise<ImageFacts> {
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
async function checkDecodes(field: string, bytes: Buffer, limits: ImageLimits): Promise<void> {
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

function bmpHeader(field: string, bytes: Buffer): { width: number; height: number } {
  try {
    return inspectBmp(bytes, { header: true });
  } catch (error) {
    throw new AppError('IMAGE_INVALID', `${field}: not a readable BMP (${(error as Error).message})`, { details: { field }, cause: error });
  }
}

/** BMP is not sharp's: the pixel data is walked (never expanded) to prove it is all there, as checkDecodes does for the rest. */
function checkBmpDecodes(field: string, bytes: Buffer): void {
  try {
    inspectBmp(bytes);
  } catch (error) {
    throw new AppError('IMAGE_INVALID', `${field}: the image does not decode (${(error as Error).message})`, { details: { field }, cause: error });
  }
}

function checkAgainstLimits(field: string, action: string, image: { format: ImageFormat; width: number; height: number }, limits: ImageLimits): void {
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
