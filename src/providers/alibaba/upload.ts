/**
 * Getting an image Alibaba cannot fetch (bytes from a data: URL, base64, a local file, or a URL outside its
 * Shanghai OSS region) to a URL it can: the two steps of the official SDK's `*Advance` methods, on the same wire.
 *  1. AuthorizeFileUpload (open platform, 2019-12-19) with Product=imageseg, RegionId=cn-shanghai answers
 *     { AccessKeyId, Bucket, Endpoint, EncodedPolicy, ObjectKey, Signature, UseAccelerate }.
 *  2. OSS PostObject: multipart/form-data POST to https://{Bucket}.{Endpoint}/ with key, OSSAccessKeyId, policy,
 *     Signature, success_action_status=201 and the file part last (OSS ignores fields after the file).
 * The Action then gets http://{Bucket}.{Endpoint}/{ObjectKey}, exactly the URL the SDK passes.
 * UseAccelerate only changes the host when the SDK client's endpointType is "accelerate", which ours never is.
 */
import type https from 'node:https';
import type { LookupFunction } from 'node:net';
import { randomBytes } from 'node:crypto';
import { AppError, type ErrorCode } from '../../errors.js';
import type { LoadedImage } from '../../images/load.js';
import type { ActionCaller } from './client.js';
import { fromSdkError } from './errors.js';
import { retrying, type RetryOptions } from './retry.js';
import { guardedLookup, type LookupGuard } from '../../fetch/address-guard.js';
import { httpsModule } from '../../fetch/https-module.js';

export interface UploadGrant {
  accessKeyId: string;
  bucket: string;
  endpoint: string;
  encodedPolicy: string;
  objectKey: string;
  signature: string;
}

export interface UploadTarget {
  /** the image parameter, e.g. ImageURL */
  field: string;
  /** the Action the image is for, e.g. SegmentCommodity */
  action: string;
  signal?: AbortSignal;
}

/** Uploads the image and returns the URL to pass to the Action. */
export type ImageUploader = (image: LoadedImage, target: UploadTarget) => Promise<string>;

export interface UploaderOptions {
  /** AuthorizeFileUpload on the open platform; not retried on its own, the whole upload is. */
  authorize: ActionCaller;
  retry: RetryOptions;
  /** Agent of the PostObject request; Node's global https agent when absent. */
  agent?: https.Agent;
  /**
   * How the granted bucket host is resolved: under the same guard as image URLs (every address checked, private
   * ones refused unless allowed), since the name comes from an upstream answer. An agent's own lookup wins.
   */
  guard?: LookupGuard;
  timeoutMs?: number;
}

const MAX_ERROR_BODY_BYTES = 64 * 1024;
const BUCKET_NAME = /^[a-z0-9][a-z0-9-]{1,62}$/;
const ENDPOINT_HOST = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*(:\d{1,5})?$/i;

export function createImageUploader(options: UploaderOptions): ImageUploader {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const lookup = guardedLookup(options.guard ?? { allowPrivateUrls: false });
  return async (image, target) => {
    try {
      return await retrying(`${target.action} image upload`, async () => {
        target.signal?.throwIfAborted();
        const grant = await authorizeUpload(options.authorize, target.signal);
        await postObject(grant, image, { agent: options.agent, lookup, timeoutMs, signal: target.signal });
        options.retry.logger.debug({ field: target.field, action: target.action, bucket: grant.bucket, objectKey: grant.objectKey }, 'uploaded image to Alibaba OSS');
        return `http://${grant.bucket}.${grant.endpoint}/${grant.objectKey}`;
      }, options.retry, target.signal);
    } catch (error) {
      // A cancelled call ends as the caller's abort, not as an upstream failure.
      if (target.signal?.aborted) throw target.signal.reason;
      const failure = error as AppError;
      throw new AppError(failure.code, `${target.field}: could not upload the image to Alibaba Cloud OSS for ${target.action}: ${failure.message}`, {
        ...failure.options,
        details: { ...failure.options.details, field: target.field, uploadFor: target.action },
      });
    }
  };
}

async function authorizeUpload(authorize: ActionCaller, signal?: AbortSignal): Promise<UploadGrant> {
  let body: Record<string, unknown>;
  try {
    body = await authorize('AuthorizeFileUpload', { Product: 'imageseg', RegionId: 'cn-shanghai' }, signal);
  } catch (error) {
    throw fromSdkError(error, 'AuthorizeFileUpload');
  }
  const requestId = typeof body.RequestId === 'string' ? body.RequestId : undefined;
  const read = (name: string): string => {
    const value = body[name];
    if (typeof value !== 'string' || !value) {
      throw new AppError('UPSTREAM_ERROR', `Alibaba AuthorizeFileUpload answered without ${name}`, {
        details: { provider: 'alibaba', action: 'AuthorizeFileUpload', ...(requestId ? { requestId } : {}) },
      });
    }
    return value;
  };
  const grant: UploadGrant = {
    accessKeyId: read('AccessKeyId'),
    bucket: read('Bucket'),
    endpoint: read('Endpoint'),
    encodedPolicy: read('EncodedPolicy'),
    objectKey: read('ObjectKey'),
    signature: read('Signature'),
  };
  // The two become a host name of URLs we request and hand on; anything else is not a grant we can use.
  if (!BUCKET_NAME.test(grant.bucket) || !ENDPOINT_HOST.test(grant.endpoint)) {
    throw new AppError('UPSTREAM_ERROR', `Alibaba AuthorizeFileUpload granted an unusable bucket host: ${grant.bucket}.${grant.endpoint}`, {
      details: { provider: 'alibaba', action: 'AuthorizeFileUpload', ...(requestId ? { requestId } : {}) },
    });
  }
  return grant;
}

/** The PostObject form: policy fields first, the file last, as OSS requires. */
export function postObjectForm(grant: UploadGrant, image: Pick<LoadedImage, 'bytes' | 'mimeType'>, boundary: string): Buffer {
  const fields: Array<[string, string]> = [
    ['key', grant.objectKey],
    ['OSSAccessKeyId', grant.accessKeyId],
    ['policy', grant.encodedPolicy],
    ['Signature', grant.signature],
    ['success_action_status', '201'],
  ];
  const filename = (grant.objectKey.split('/').pop() || 'image').replace(/["\r\n]/g, '_');
  const head =
    fields.map(([name, value]) => `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`).join('') +
    `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${filename}"\r\nContent-Type: ${image.mimeType}\r\n\r\n`;
  return Buffer.concat([Buffer.from(head, 'utf8'), image.bytes, Buffer.from(`\r\n--${boundary}--\r\n`, 'utf8')]);
}

function postObject(grant: UploadGrant, image: LoadedImage, transport: { agent?: https.Agent; lookup: LookupFunction; timeoutMs: number; signal?: AbortSignal }): Promise<void> {
  const url = new URL(`https://${grant.bucket}.${grant.endpoint}/`);
  const boundary = `imageseg${randomBytes(12).toString('hex')}`;
  const body = postObjectForm(grant, image, boundary);
  return new Promise((resolve, reject) => {
    const request = httpsModule().request(
      url,
      {
        method: 'POST',
        agent: transport.agent,
        lookup: transport.lookup,
        timeout: transport.timeoutMs,
        signal: transport.signal,
        headers: {
          'content-type': `multipart/form-data; boundary=${boundary}`,
          'content-length': String(body.length),
          date: new Date().toUTCString(),
          'user-agent': 'imageseg-mcp',
        },
      },
      (response) => {
        const status = response.statusCode ?? 0;
        const chunks: Buffer[] = [];
        let kept = 0;
        response.on('data', (chunk: Buffer) => {
          if (kept < MAX_ERROR_BODY_BYTES) chunks.push(chunk);
          kept += chunk.length;
        });
        response.on('error', (error) => reject(networkError(url, error)));
        response.on('end', () => {
          if (status >= 200 && status < 300) return resolve();
          reject(ossError(status, Buffer.concat(chunks).toString('utf8'), response.headers['x-oss-request-id']));
        });
      },
    );
    request.on('timeout', () => request.destroy(Object.assign(new Error(`no answer within ${transport.timeoutMs} ms`), { code: 'ETIMEDOUT' })));
    request.on('error', (error) => reject(transport.signal?.aborted ? transport.signal.reason : networkError(url, error)));
    request.end(body);
  });
}

function xmlField(xml: string, name: string): string | undefined {
  return new RegExp(`<${name}>([^<]*)</${name}>`).exec(xml)?.[1];
}

/** An OSS error answer (XML `<Error><Code/><Message/><RequestId/></Error>`) in our terms. */
function ossError(status: number, xml: string, requestIdHeader: string | string[] | undefined): AppError {
  const code = xmlField(xml, 'Code') ?? `HTTP${status}`;
  const message = xmlField(xml, 'Message') ?? 'no message';
  const requestId = xmlField(xml, 'RequestId') ?? (typeof requestIdHeader === 'string' ? requestIdHeader : undefined);
  const throttled = status === 429 || code === 'SlowDown' || code.includes('Throttling');
  const ours: ErrorCode = throttled ? 'UPSTREAM_THROTTLED' : code === 'EntityTooLarge' || status === 413 ? 'IMAGE_TOO_LARGE' : 'UPSTREAM_ERROR';
  return new AppError(ours, `Alibaba OSS PostObject failed: ${code}: ${message} (HTTP ${status})`, {
    retryable: throttled || status >= 500 || code === 'RequestTimeout',
    details: { provider: 'alibaba', action: 'PostObject', alibabaCode: code, httpStatus: status, ...(requestId ? { requestId } : {}) },
  });
}

/** Connection failures are worth another try; a certificate that does not verify is not. */
function networkError(url: URL, error: Error & { code?: string }): AppError {
  const code = error.code ?? 'NetworkError';
  const certificate = code.startsWith('ERR_TLS') || code.includes('CERT') || code.includes('SELF_SIGNED');
  return new AppError('UPSTREAM_ERROR', `Alibaba OSS PostObject to ${url.origin} failed: ${code}: ${error.message}`, {
    retryable: !certificate,
    details: { provider: 'alibaba', action: 'PostObject', alibabaCode: code },
    cause: error,
  });
}
