import type { Readable, Transform } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { AppError } from '../errors.js';
import { describeBytes } from '../fetch/sizes.js';
import { serverBusy, withLease, type BodyBudget, type BodyLease } from './body-budget.js';
import { createJsonText, type JsonText } from './json-text.js';

export interface BodyLimit {
  /** The most bytes the body may have, before and after decoding. */
  maxBytes: number;
  /** What the body is for, in words, for the 413 answer: "an MCP message". */
  purpose: string;
  /** What every body being read counts against, from its declared length or first byte until it is done. */
  budget: BodyBudget;
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

/**
 * The reading within the route's limit, or the whole budget where that is less (a body over it could never be read
 * here), and the body's declared length; a declared length over that is refused before anything else.
 */
function withinLimits(request: Request, limit: BodyReading): { reading: BodyReading; declared: number | undefined } {
  const reading = limit.budget.totalBytes < limit.maxBytes ? { ...limit, maxBytes: limit.budget.totalBytes } : limit;
  const declared = declaredLength(request);
  if (declared !== undefined && declared > reading.maxBytes) throw tooLarge(reading, declared);
  return { reading, declared };
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
 * The data handler of a body being read: counts what arrives (after decoding) against the limit and the budget,
 * hands each chunk on, and pauses once past `beforeLarge.atBytes` for that check (an unpaid call's 402), resuming
 * only if it passes.
 */
export function meteredData(
  reading: BodyReading,
  lease: BodyLease,
  source: Readable,
  step: { checked: boolean; settled: () => boolean; take: (chunk: Buffer) => void; fail: (error: Error) => void },
): (chunk: Buffer) => void {
  let received = 0;
  let checked = step.checked;
  return (chunk) => {
    if (step.settled()) return;
    received += chunk.length;
    if (received > reading.maxBytes) return step.fail(tooLarge(reading));
    if (!lease.hold(received)) return step.fail(serverBusy(reading.budget));
    step.take(chunk);
    if (!checked && reading.beforeLarge && received > reading.beforeLarge.atBytes) {
      checked = true;
      source.pause();
      reading.beforeLarge.check().then(() => step.settled() || source.resume(), step.fail);
    }
  };
}

/** Where a body goes as it arrives, and what it becomes once complete (still counted against the budget). */
export interface BodySink<T> {
  take(chunk: Buffer): void;
  result(): T;
}

/** The body's bytes: into one buffer of its length when that is known, else kept as they come and joined once. */
export function bytesSink(length: number | undefined): BodySink<Buffer> {
  if (length !== undefined) {
    const buffer = Buffer.allocUnsafe(length);
    let filled = 0;
    const take = (chunk: Buffer) => {
      filled += chunk.copy(buffer, filled);
    };
    return { take, result: () => buffer.subarray(0, filled) };
  }
  const chunks: Buffer[] = [];
  return { take: (chunk) => chunks.push(chunk), result: () => Buffer.concat(chunks) };
}

/** Reads the whole body into `take`; settles once it has ended, or with the error that stopped it. */
function collect(request: Request, started: StartedReading, lease: BodyLease, take: (chunk: Buffer) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const { decoding, reading, checked } = started;
    const { decoder } = decoding;
    const source: Readable = decoder ?? request;
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
      else resolve();
    };
    const onRawData = (chunk: Buffer) => {
      receivedRaw += chunk.length;
      if (receivedRaw > reading.maxBytes) finish(tooLarge(reading));
    };
    const onData = meteredData(reading, lease, source, { checked, settled: () => settled, take, fail: finish });
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

export interface StartedReading {
  /** The reading within the budget. */
  reading: BodyReading;
  decoding: { name: string; decoder: Transform | null };
  declared: number | undefined;
  /** The large-body check has been run (on the declared length). */
  checked: boolean;
}

/**
 * What comes before reading any body: a declared length over the limit (or the whole budget) is refused, the
 * encoding must be one we decode, a declared length past `beforeLarge.atBytes` runs that check now (`checked`),
 * and the declared length must fit in what is left of the budget (else 503 SERVER_BUSY) — all before a byte is read.
 */
export async function startReading(request: Request, limit: BodyReading, lease: BodyLease): Promise<StartedReading> {
  const { reading, declared } = withinLimits(request, limit);
  const decoding = decoderFor(request);
  const checked = Boolean(reading.beforeLarge && declared !== undefined && declared > reading.beforeLarge.atBytes);
  if (checked) await reading.beforeLarge!.check();
  if (declared !== undefined && !lease.hold(declared)) throw serverBusy(reading.budget);
  return { reading, decoding, declared, checked };
}

/**
 * The body whatever its type, decoded, within the limit and after the large-body check, into the sink made for its
 * length (undefined when unknown); it counts against the budget until the sink's result is made.
 */
export function readBody<T>(request: Request, reading: BodyReading, sinkFor: (length: number | undefined) => BodySink<T>): Promise<T> {
  return withLease(reading.budget, async (lease) => {
    const started = await startReading(request, reading, lease);
    const sink = sinkFor(started.decoding.decoder ? undefined : started.declared);
    await collect(request, started, lease, (chunk) => sink.take(chunk));
    return sink.result();
  });
}

/**
 * The JSON body, decoded as it arrives, made into what the route keeps by `use`; undefined when there is no body or
 * it is not JSON (then it is not read). A declared length over the limit is refused unread, even when not JSON.
 */
export async function readJson<T>(request: Request, reading: BodyReading, use: (text: JsonText) => T): Promise<T | undefined> {
  if (!hasBody(request)) return undefined;
  withinLimits(request, reading);
  if (!isJson(request)) return undefined;
  return readBody(request, reading, () => {
    const text = createJsonText();
    return { take: (chunk) => text.write(chunk), result: () => use(text) };
  });
}

/** The JSON body as a value: undefined when there is none; malformed JSON is the client's INVALID_ARGUMENT. */
export function readJsonBody(request: Request, reading: BodyReading): Promise<unknown> {
  return readJson(request, reading, (text) => {
    if (text.isEmpty()) return undefined;
    try {
      return text.parse();
    } catch (error) {
      throw new AppError('INVALID_ARGUMENT', `Malformed JSON body: ${(error as Error).message}`);
    }
  });
}

/** After an answer given before the body was read, how long and how much of the rest is read and dropped. */
const LINGER_MS = 2000;
const LINGER_BYTES = 4 * 1024 * 1024;

/**
 * An answer given before the whole body was read ends the connection soon after: the rest of the body is dropped
 * unread for a moment (a lingering close, so that a client still sending gets to read the answer instead of a
 * reset), then the socket is closed unless the body has ended by then. Past `LINGER_BYTES` the server stops reading
 * rather than closing at once: a reset would also discard the answer from a busy client's unread buffer.
 */
export function closeAfterAnswer(request: Request, response: Response): void {
  if (request.complete) return;
  response.once('finish', () => {
    if (request.complete) return;
    const timer = setTimeout(() => request.socket.destroy(), LINGER_MS);
    timer.unref();
    let dropped = 0;
    request.on('data', (chunk: Buffer) => {
      dropped += chunk.length;
      if (dropped > LINGER_BYTES) request.pause();
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
