import type { Readable } from 'node:stream';
import busboy from 'busboy';
import type { Request } from 'express';
import type { z } from 'zod';
import { imageFieldOf, type Capability } from '../catalog/capability.js';
import { argumentShapeOf } from '../catalog/schemas.js';
import { AppError } from '../errors.js';
import { describeBytes } from '../fetch/sizes.js';
import { bytesSink, declaredLength, meteredData, readBody, startReading, type BodyReading, type StartedReading } from './body.js';
import { withLease, type BodyLease } from './body-budget.js';

/** Parameters that are not images are short: a form field longer than this is a mistake, not a parameter. */
const MAX_FIELD_BYTES = 64 * 1024;
const MAX_FIELDS = 64;

export function mediaTypeOf(request: Request): string {
  return (request.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
}

export const isMultipart = (request: Request) => mediaTypeOf(request) === 'multipart/form-data';
export const isRawImage = (request: Request) => mediaTypeOf(request).startsWith('image/');

/** An uploaded file as the pipeline takes every image: a data: URL, checked like any other input. */
const asDataUrl = (bytes: Buffer) => `data:application/octet-stream;base64,${bytes.toString('base64')}`;

/**
 * Forms and query strings carry text; a parameter that is a number or a boolean (`Async=true`, `cropMargin=16`)
 * is taken as such when the text is not acceptable as it is.
 */
function fromText(shape: z.ZodRawShape, name: string, text: string): unknown {
  const schema = shape[name] as z.ZodType | undefined;
  if (!schema || schema.safeParse(text).success) return text;
  try {
    const value: unknown = JSON.parse(text);
    return schema.safeParse(value).success ? value : text;
  } catch {
    return text;
  }
}

function imageTooLarge(capability: Capability, field: string, limit: number): AppError {
  return new AppError('IMAGE_TOO_LARGE', `${field}: the upload is over the ${describeBytes(limit)} accepted for ${capability.action}`, {
    details: { field, limitBytes: limit },
  });
}

/** Query-string parameters (a raw image body's other parameters), typed as the capability takes them. */
function queryArguments(request: Request, shape: z.ZodRawShape): Record<string, unknown> {
  const args: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(request.query)) {
    if (typeof value !== 'string') throw new AppError('INVALID_ARGUMENT', `${name}: give each query parameter once`, { details: { fields: [name] } });
    args[name] = fromText(shape, name, value);
  }
  return args;
}

/** A raw `image/*` body: it fills the Action's primary image parameter; the others come from the query string. */
export async function readRawImageArguments(request: Request, capability: Capability, reading: BodyReading): Promise<Record<string, unknown>> {
  const field = imageFieldOf(capability, 'primary');
  const limits = field === undefined ? undefined : capability.images[field];
  if (!field || !limits) {
    throw new AppError('UNSUPPORTED_MEDIA_TYPE', `${capability.serviceId} takes no image: send its parameters as JSON`, { details: { contentType: mediaTypeOf(request) } });
  }
  const args = queryArguments(request, argumentShapeOf(capability));
  const declared = declaredLength(request);
  if (declared !== undefined && declared > limits.maxBytes) throw imageTooLarge(capability, field, limits.maxBytes);
  const toDataUrl = (length: number | undefined) => {
    const bytes = bytesSink(length);
    return { take: (chunk: Buffer) => bytes.take(chunk), result: () => asDataUrl(bytes.result()) };
  };
  const image = await readBody(request, { ...reading, maxBytes: limits.maxBytes }, toDataUrl).catch((error: unknown) => {
    throw error instanceof AppError && error.code === 'IMAGE_TOO_LARGE' ? imageTooLarge(capability, field, limits.maxBytes) : error;
  });
  return { ...args, [field]: image };
}

/**
 * A `multipart/form-data` body: file parts named as the Action's image parameters, other fields as text. Read as it
 * streams: each file stops at its image limit, the whole body at the route's (and the body budget's), and an unpaid
 * request is asked to pay before more than `beforeLarge.atBytes` arrive.
 */
export function readMultipartArguments(request: Request, capability: Capability, reading: BodyReading): Promise<Record<string, unknown>> {
  return withLease(reading.budget, async (lease) => parseMultipart(request, capability, await startReading(request, reading, lease), lease));
}

function parseMultipart(request: Request, capability: Capability, started: StartedReading, lease: BodyLease): Promise<Record<string, unknown>> {
  const { reading, decoding, checked } = started;
  const shape = argumentShapeOf(capability);
  let parser: busboy.Busboy;
  try {
    parser = busboy({ headers: request.headers, limits: { fieldSize: MAX_FIELD_BYTES, fields: MAX_FIELDS, parts: MAX_FIELDS, fileSize: Math.max(0, ...Object.values(capability.images).map((limits) => limits?.maxBytes ?? 0)) + 1 } });
  } catch (error) {
    throw new AppError('INVALID_ARGUMENT', `Malformed multipart/form-data request: ${(error as Error).message}`);
  }

  return new Promise((resolve, reject) => {
    const args: Record<string, unknown> = {};
    const source: Readable = decoding.decoder ?? request;
    let settled = false;
    const finish = (error?: Error) => {
      if (settled) return;
      settled = true;
      source.off('data', onData);
      if (decoding.decoder) {
        request.unpipe(decoding.decoder);
        decoding.decoder.destroy();
      }
      request.pause();
      parser.removeAllListeners();
      parser.on('error', () => undefined);
      // Often called from inside parser.write (a file part's data): destroyed once that write has returned.
      setImmediate(() => parser.destroy());
      if (error) reject(error);
      else resolve(args);
    };
    const onData = meteredData(reading, lease, source, { checked, settled: () => settled, take: (chunk) => parser.write(chunk), fail: finish });

    parser.on('file', (name, file, info) => {
      // Stopping early destroys the parser, which fails the part in flight; that is already answered.
      file.on('error', () => undefined);
      const limits = capability.images[name];
      if (!limits) {
        const names = Object.keys(capability.images);
        return finish(new AppError('INVALID_ARGUMENT', `File part "${name}" is not an image parameter of ${capability.action}${names.length ? `; name the file ${names.join(' or ')}` : ''}`, { details: { fields: [name] } }));
      }
      if (name in args) return finish(new AppError('INVALID_ARGUMENT', `${name} is given twice`, { details: { fields: [name] } }));
      const chunks: Buffer[] = [];
      let size = 0;
      file.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > limits.maxBytes) return finish(imageTooLarge(capability, name, limits.maxBytes));
        chunks.push(chunk);
      });
      file.on('end', () => {
        if (settled) return;
        if (size === 0) return finish(new AppError('IMAGE_INVALID', `${name}: the uploaded file${info.filename ? ` ${info.filename}` : ''} is empty`, { details: { field: name } }));
        args[name] = asDataUrl(Buffer.concat(chunks, size));
      });
    });
    parser.on('field', (name, value, info) => {
      if (info.valueTruncated || info.nameTruncated) return finish(new AppError('INVALID_ARGUMENT', `Form field ${name} is longer than ${MAX_FIELD_BYTES} bytes; upload images as file parts`, { details: { fields: [name] } }));
      if (name in args) return finish(new AppError('INVALID_ARGUMENT', `${name} is given twice`, { details: { fields: [name] } }));
      args[name] = fromText(shape, name, value);
    });
    const overLimit = () => finish(new AppError('INVALID_ARGUMENT', `Too many form parts (at most ${MAX_FIELDS})`));
    parser.on('partsLimit', overLimit);
    parser.on('fieldsLimit', overLimit);
    parser.on('filesLimit', overLimit);
    parser.on('error', (error: Error) => finish(new AppError('INVALID_ARGUMENT', `Malformed multipart/form-data body: ${error.message}`)));
    parser.on('close', () => finish());

    request.on('error', (error) => finish(error));
    request.on('close', () => {
      if (!request.complete) finish(new AppError('INVALID_ARGUMENT', 'The client closed the connection before the body was complete'));
    });
    if (decoding.decoder) {
      decoding.decoder.on('error', (error) => finish(new AppError('INVALID_ARGUMENT', `Body is not valid ${decoding.name}: ${error.message}`)));
      request.pipe(decoding.decoder);
    }
    source.on('data', onData);
    source.on('end', () => settled || parser.end());
  });
}
