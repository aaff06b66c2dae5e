/**
 * Loopback emulator of Aidge's Image Background Removal (seed: aidge-image-background-removal.txt) behind its
 * open-platform gateway: GET/POST <base>/rest/ai/image/cut/out, parameters in the query and (POST) a form body;
 * `app_key`, millisecond `timestamp`, `sign_method=sha256` and `sign` = upper-case hex HMAC-SHA256 (app secret) of
 * the API path followed by every other parameter sorted by name, name then value — verified for real. Business
 * answers `{ data, requestId, success, resCode, resMessage, ... }` with the seed's resCodes (500, 501 rate limit,
 * 700 invalid input, 801 model failed, 1000-1002 content risk); gateway refusals `{ type, code, message, request_id }`.
 */
import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { decodeInput, FaultQueue, renderCutout, sendJson, startPeerServer } from './base.js';

export const AIDGE_API_PATH = '/ai/image/cut/out';
/** How far a request's timestamp may be from the gateway's clock. */
const MAX_SKEW_MS = 15 * 60 * 1000;
const MESSAGES: Readonly<Record<number, string>> = {
  500: 'system error',
  501: 'rate limit exceed',
  700: 'invalid input',
  801: 'model failed',
  1000: 'content has sensitive data, please try other input',
  1001: 'content control failed, please retry',
  1002: 'content risk filter failed, please contact us',
};
const BACKGROUNDS = new Set(['WHITE_BACKGROUND', 'TRANSPARENT']);

export interface AidgeFault {
  /** a documented resCode */
  resCode?: number;
  /** an HTTP status from the gateway instead (e.g. 502, 503) */
  httpStatus?: number;
  /** never answer */
  hang?: boolean;
}

export interface AidgeEmulator {
  /** AIDGE_ENDPOINT: the base URL including /rest */
  endpoint: string;
  appKey: string;
  appSecret: string;
  /** every request whose signature was valid: its parameters (imageBase64 replaced by its length) */
  calls: Array<{ params: Record<string, string>; at: number }>;
  injectFault(fault: AidgeFault, times?: number): void;
  clearFaults(): void;
  close(): Promise<void>;
}

export function iopSignature(apiPath: string, params: Readonly<Record<string, string>>, secret: string): string {
  const text = Object.keys(params).filter((name) => name !== 'sign').sort().map((name) => `${name}${params[name]}`).join('');
  return createHmac('sha256', secret).update(apiPath + text, 'utf8').digest('hex').toUpperCase();
}

function gateway(res: ServerResponse, code: string, message: string): void {
  sendJson(res, 200, { type: 'ISV', code, message, request_id: randomUUID().replace(/-/g, '').slice(0, 26) });
}

function business(res: ServerResponse, resCode: number, detail?: string, data?: Record<string, unknown>): void {
  const requestId = randomUUID().replace(/-/g, '').slice(0, 30);
  const message = resCode === 200 ? 'success' : detail ? `${MESSAGES[resCode]}: ${detail}` : MESSAGES[resCode] ?? 'system error';
  sendJson(res, 200, { ...(data ? { data } : {}), requestId, success: resCode === 200, resCode, resMessage: message, code: '0', request_id: requestId, _trace_id_: requestId });
}

function sideOf(value: string | undefined, name: string): number | undefined | string {
  if (value === undefined || value === '') return undefined;
  const side = Number(value);
  return Number.isInteger(side) && side >= 100 && side <= 3000 ? side : `${name} must be an integer from 100 to 3000`;
}

export async function startAidgeEmulator(options: { appKey?: string; appSecret?: string } = {}): Promise<AidgeEmulator> {
  const appKey = options.appKey ?? '500000';
  const appSecret = options.appSecret ?? 'aidge-emulator-secret';
  const calls: AidgeEmulator['calls'] = [];
  const faults = new FaultQueue<AidgeFault>();
  const server = await startPeerServer(async (req, res, url, body) => {
    if (url.pathname !== `/rest${AIDGE_API_PATH}`) return gateway(res, 'InvalidApiPath', `The specified API path is invalid: ${url.pathname}`);
    if (req.method !== 'GET' && req.method !== 'POST') return gateway(res, 'InvalidMethod', 'Only GET and POST are supported');
    const params: Record<string, string> = Object.fromEntries(url.searchParams);
    if (req.method === 'POST' && body.length > 0) {
      const type = req.headers['content-type'] ?? '';
      if (type.startsWith('application/json')) Object.assign(params, JSON.parse(body.toString('utf8')) as Record<string, string>);
      else Object.assign(params, Object.fromEntries(new URLSearchParams(body.toString('utf8'))));
    }
    if (!params.app_key || !params.timestamp || !params.sign) return gateway(res, 'IncompleteSignature', 'app_key, timestamp and sign are required');
    if (params.app_key !== appKey) return gateway(res, 'InvalidAppKey', 'The specified app_key is invalid');
    if ((params.sign_method ?? 'sha256') !== 'sha256') return gateway(res, 'IncompleteSignature', `sign_method ${params.sign_method} is not supported`);
    if (!/^\d{13}$/.test(params.timestamp) || Math.abs(Date.now() - Number(params.timestamp)) > MAX_SKEW_MS) {
      return gateway(res, 'InvalidTimestamp', 'timestamp must be the current time in milliseconds');
    }
    const expected = Buffer.from(iopSignature(AIDGE_API_PATH, params, appSecret));
    const given = Buffer.from(params.sign);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return gateway(res, 'IncompleteSignature', 'The request signature does not conform to platform standards');
    calls.push({ params: { ...params, ...(params.imageBase64 ? { imageBase64: `<${params.imageBase64.length} chars>` } : {}) }, at: Date.now() });

    const fault = faults.take();
    if (fault?.hang) return;
    if (fault?.httpStatus) return sendJson(res, fault.httpStatus, { message: 'gateway error' });
    if (fault?.resCode) return business(res, fault.resCode);

    if (!params.backGroundType || !BACKGROUNDS.has(params.backGroundType)) return business(res, 700, 'backGroundType must be WHITE_BACKGROUND or TRANSPARENT');
    const width = sideOf(params.targetWidth, 'targetWidth');
    const height = sideOf(params.targetHeight, 'targetHeight');
    if (typeof width === 'string' || typeof height === 'string') return business(res, 700, String(typeof width === 'string' ? width : height));
    let bytes: Buffer;
    if (params.imageBase64) bytes = Buffer.from(params.imageBase64, 'base64');
    else if (params.imageUrl) {
      const response = await fetch(params.imageUrl, { signal: AbortSignal.timeout(5000) }).catch(() => undefined);
      if (!response?.ok) return business(res, 700, 'imageUrl could not be downloaded');
      bytes = Buffer.from(await response.arrayBuffer());
    } else return business(res, 700, 'either imageUrl or imageBase64 is required');
    const decoded = await decodeInput(bytes);
    if (!decoded) return business(res, 700, 'the image cannot be decoded');
    const { raster } = decoded;
    if (raster.width < 100 || raster.height < 100 || raster.width > 3000 || raster.height > 3000) {
      return business(res, 700, `input image size should be between 100x100 and 3000x3000 pixels, got ${raster.width}x${raster.height}`);
    }
    const target = width !== undefined || height !== undefined ? { width: width ?? raster.width, height: height ?? raster.height } : undefined;
    const result = await renderCutout(raster, params.backGroundType === 'WHITE_BACKGROUND' ? 'white' : 'transparent', target);
    business(res, 200, undefined, {
      score: 0.88,
      imageUrl: server.blobs.putResult(result.bytes, result.ext),
      usage: 1,
      width: result.width,
      height: result.height,
      class: 'com.aidc.service.api.client.image.dto.ImageGenResponse',
    });
  });
  return {
    endpoint: `${server.baseUrl}/rest`,
    appKey,
    appSecret,
    calls,
    injectFault: (fault, times) => faults.push(fault, times),
    clearFaults: () => faults.clear(),
    close: () => server.close(),
  };
}
