import type { Readable, Transform } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { AppError } from '../errors.js';
import { describeBytes } from '../fetch/sizes.js';

export interface BodyLimit {
  /** The most bytes the body may have, before and after decoding. */
  maxBytes: number;
  /** What the body is for, in words, for the 413 answer: "an MCP message". */
  purpose: string;
}

export interface BodyReading extends BodyLimit {
  /**
   * Awaited once before more than `atBytes` are read (at once when Content-Length already says so); when it throws,
   * reading stops and the error is the answer. This is how an unpaid call is answered before its image arrives.
   */
  beforeLarge?: { atBytes: number; check: () => Promise<void> };
}

/** One encoding at most: `gzip, gzip` is a client mistake, not a format worth decoding twice. */
const DECODERS: Record<string, (() => Transform) | null> = { identity: null, gzip: createGunzip, 'x-gzip': createGunzip, deflate: createInflate, br: createBrotliDecompress };

/** RFC 9112: a request has a body when it says how long it is or that it is chunked. */
export function hasBody(request: Request): boolean {
  const length = request.headers['content-length'];
  return request.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

export function declaredLength(request: Request): number | undefined {
  const length = Number(request.headers['content-length']);
  return Number.isSafeInteger(length) && length >= 0 ? length : undefined;
}

export function tooLarge(limit: BodyLimit, declared?: number): AppError {
  const size = declared === undefined ? `more than ${describeBytes(limit.maxBytes)}` : describeBytes(declared);
  return new AppError('IMAGE_TOO_LARGE', `Request body of ${size} is over the ${describeBytes(limit.maxBytes)} (${limit.maxBytes} bytes) accepted for ${limit.purpose}; send large images as URLs`, {
    details: { limitBytes: limit.maxBytes, ...(declared === undefined ? {} : { bytes: declared }) },
  });
}

export function decoderFor(request: Request): { name: string; decoder: Transform | null } {
  const name = (request.headers['content-encoding'] ?? '').trim().toLowerCase() || 'identity';
  const create = DECODERS[name];
  if (create === undefined) {
    throw new AppError('UNSUPPORTED_MEDIA_TYPE', `Content-Encoding "${name}" is not supported: send the body as is, or with exactly one of gzip, deflate or br`, {
      details: { contentEncoding: name, supported: Object.keys(DECODERS) },
    });
  }
  return { name, decoder: create ? create() : null };
}

/**
 * Whether the body is JSON (application/json or a +json type). JSON travels as UTF-8 between systems (RFC 8259),
 * so any other charset is refused rather than misread.
 */
function isJson(request: Request): boolean {
  const [type = '', ...parameters] = (request.headers['content-type'] ?? '').split(';');
  const media = type.trim().toLowerCase();
  if (media !== 'application/json' && !/^application\/[\w.+-]+\+json$/.test(media)) return false;
  for (const parameter of parameters) {
    const [name = '', value = ''] = parameter.split('=');
    if (name.trim().toLowerCase() !== 'charset') continue;
    const charset = value.trim().replace(/^"(.*)"$/, '$1').toLowerCase();
    if (charset !== 'utf-8' && charset !== 'utf8') {
      throw new AppError('UNSUPPORTED_MEDIA_TYPE', `Charset "${charset}" is not supported: JSON bodies are UTF-8`, { details: { charset } });
    }
  }
  return true;
}

/**
 * The data handler of a body being read: counts what arrives (after decoding) against the limit, hands each chunk
 * on, and pauses once past `beforeLarge.atBytes` for that check (an unpaid call's 402), resuming only if it passes.
 */
export function meteredData(
  reading: BodyReading,
  source: Readable,
  step: { checked: boolean; settled: () => boolean; take: (chunk: Buffer) => void; fail: (error: Error) => void },
): (chunk: Buffer) => void {
  let received = 0;
  let checked = step.checked;
  return (chunk) => {
    if (step.settled()) return;
    received += chunk.length;
    if (received > reading.maxBytes) return step.fail(tooLarge(reading));
    step.take(chunk);
    if (!checked && reading.beforeLarge && received > reading.beforeLarge.atBytes) {
      checked = true;
      source.pause();
      reading.beforeLarge.check().then(() => step.settled() || source.resume(), step.fail);
    }
  };
}

function collect(request: Request, decoding: { name: string; decoder: Transform | null }, reading: BodyReading, checked: boolean): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const { decoder } = decoding;
    const source: Readable = decoder ?? request;
    const chunks: Buffer[] = [];
    let receivedRaw = 0;
    let settled = false;
    const finish = (error?: Error) => {
      if (settled) return;
      settled = true;
      source.off('data', onData);
      request.off('data', onRawData);
      if (decoder) {
        request.unpipe(decoder);
        decoder.destroy();
      }
      request.pause();
      if (error) reject(error);
      else resolve(Buffer.concat(chunks));
    };
    const onRawData = (chunk: Buffer) => {
      receivedRaw += chunk.length;
      if (receivedRaw > reading.maxBytes) finish(tooLarge(reading));
    };
    const onData = meteredData(reading, source, { checked, settled: () => settled, take: (chunk) => chunks.push(chunk), fail: finish });
    // Kept after settling: a client that goes away later must not become an unhandled error.
    request.on('error', (error) => finish(error));
    request.on('close', () => {
      if (!request.complete) finish(new AppError('INVALID_ARGUMENT', 'The client closed the connection before the body was complete'));
    });
    if (decoder) {
      decoder.on('error', (error) => finish(new AppError('INVALID_ARGUMENT', `Body is not valid ${decoding.name}: ${error.message}`)));
      request.on('data', onRawData);
      request.pipe(decoder);
    }
    source.on('data', onData);
    source.on('end', () => finish());
  });
}

/**
 * The JSON body's bytes, or undefined when there is no body or it is not JSON (then it is not read). A declared
 * length over the limit is refused without reading; a chunked or compressed body is cut off when it passes it.
 */
export async function readJsonBytes(request: Request, reading: BodyReading): Promise<Buffer | undefined> {
  if (!hasBody(request)) return undefined;
  const declared = declaredLength(request);
  if (declared !== undefined && declared > reading.maxBytes) throw tooLarge(reading, declared);
  if (!isJson(request)) return undefined;
  return readBodyBytes(request, reading);
}

/**
 * What comes before reading any body: a declared length over the limit is refused, the encoding must be one we
 * decode, and a declared length past `beforeLarge.atBytes` runs that check now (`checked`), before a byte is read.
 */
export async function startReading(request: Request, reading: BodyReading): Promise<{ decoding: { name: string; decoder: Transform | null }; checked: boolean }> {
  const declared = declaredLength(request);
  if (declared !== undefined && declared > reading.maxBytes) throw tooLarge(reading, declared);
  const decoding = decoderFor(request);
  const checked = Boolean(reading.beforeLarge && declared !== undefined && declared > reading.beforeLarge.atBytes);
  if (checked) await reading.beforeLarge!.check();
  return { decoding, checked };
}

/** The body's bytes whatever its type, decoded, within the limit and after the large-body check. */
export async function readBodyBytes(request: Request, reading: BodyReading): Promise<Buffer> {
  const { decoding, checked } = await startReading(request, reading);
  return collect(request, decoding, reading, checked);
}

/** The JSON body as a value: undefined when there is none; malformed JSON is the client's INVALID_ARGUMENT. */
export async function readJsonBody(request: Request, reading: BodyReading): Promise<unknown> {
  const bytes = await readJsonBytes(request, reading);
  if (bytes === undefined || bytes.length === 0) return undefined;
  try {
    return parseJson(bytes);
  } catch (error) {
    throw new AppError('INVALID_ARGUMENT', `Malformed JSON body: ${(error as Error).message}`);
  }
}

export function parseJson(bytes: Buffer): unknown {
  return JSON.parse(bytes.toString('utf8').replace(/^\uFEFF/, ''));
}

/** After an answer given before the body was read, how long and how much of the rest is read and dropped. */
const LINGER_MS = 2000;
const LINGER_BYTES = 4 * 1024 * 1024;

/**
 * An answer given before the whole body was read ends the connection soon after: the rest of the body is dropped
 * unread for a moment (a lingering close, so that a client still sending gets to read the answer instead of a
 * reset), then the socket is closed unless the body has ended by then.
 */
export function closeAfterAnswer(request: Request, response: Response): void {
  if (request.complete) return;
  response.once('finish', () => {
    if (request.complete) return;
    const close = () => request.socket.destroy();
    const timer = setTimeout(close, LINGER_MS);
    timer.unref();
    let dropped = 0;
    request.on('data', (chunk: Buffer) => {
      dropped += chunk.length;
      if (dropped > LINGER_BYTES) close();
    });
    request.once('end', () => clearTimeout(timer));
    request.once('close', () => clearTimeout(timer));
    request.resume();
  });
}

/** Routes with small bodies (payments, operator commands): the JSON body within `maxBytes` as `request.body`. */
export function jsonBody(limit: BodyLimit): RequestHandler {
  return (request: Request, _response: Response, next: NextFunction) => {
    readJsonBody(request, limit).then((body) => {
      request.body = body;
      next();
    }, next);
  };
}
