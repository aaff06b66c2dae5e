/**
 * Loopback emulator of ailabtools' Product Background Removal on API.market, written from the seed's OpenAPI
 * (ailabtools-product-background-removal.txt): POST <base>/cutout/commodity/commodity, multipart/form-data with
 * `image` (JPEG/JPG/BMP/PNG, 8-bit, at most 3 MB, less than 2000x2000) and `return_form` (mask | whiteBK | crop);
 * the `x-api-market-key` header checked for real; answers `{ request_id, log_id, error_code, error_code_str,
 * error_msg, error_detail, data: { image_url } }` with `error_code` equal to the HTTP status on errors.
 */
import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { decodeInput, FaultQueue, renderCutout, sendJson, startPeerServer, type CutoutForm } from './base.js';

export const AILABTOOLS_BASE_PATH = '/api/v1/ailabtools/product-background-removal';
const OPERATION = `${AILABTOOLS_BASE_PATH}/cutout/commodity/commodity`;
const MAX_BYTES = 3 * 1024 * 1024;
const FORMS: Readonly<Record<string, CutoutForm>> = { mask: 'mask', whiteBK: 'white', crop: 'crop' };

/** Error codes by status: `error_code_str` (coarse) and `error_detail.code` (precise), as the schema describes them. */
const ERRORS: Readonly<Record<number, { str: string; code: string; message: string }>> = {
  400: { str: 'ERROR_INVALID_PARAMETER', code: 'ERROR_INVALID_PARAMETER', message: 'Invalid parameter.' },
  401: { str: 'ERROR_UNAUTHORIZED', code: 'ERROR_API_KEY_MISSING', message: 'Unauthorized.' },
  403: { str: 'ERROR_FORBIDDEN', code: 'ERROR_API_KEY_INVALID', message: 'Forbidden.' },
  404: { str: 'ERROR_NOT_FOUND', code: 'ERROR_NOT_FOUND', message: 'Not Found.' },
  405: { str: 'ERROR_METHOD_NOT_ALLOWED', code: 'ERROR_METHOD_NOT_ALLOWED', message: 'Method Not Allowed.' },
  413: { str: 'ERROR_PAYLOAD_TOO_LARGE', code: 'ERROR_IMAGE_SIZE_EXCEEDED', message: 'Payload Too Large.' },
  415: { str: 'ERROR_UNSUPPORTED_MEDIA_TYPE', code: 'ERROR_IMAGE_FORMAT', message: 'Unsupported Media Type.' },
  422: { str: 'ERROR_UNPROCESSABLE_ENTITY', code: 'ERROR_IMAGE_RESOLUTION', message: 'Unprocessable Entity.' },
  429: { str: 'ERROR_TOO_MANY_REQUESTS', code: 'ERROR_RATE_LIMIT', message: 'Too Many Requests.' },
  500: { str: 'ERROR_INTERNAL_SERVER', code: 'ERROR_INTERNAL_SERVER', message: 'Internal Server Error.' },
  502: { str: 'ERROR_BAD_GATEWAY', code: 'ERROR_BAD_GATEWAY', message: 'Bad Gateway.' },
  503: { str: 'ERROR_SERVICE_UNAVAILABLE', code: 'ERROR_SERVICE_UNAVAILABLE', message: 'Service Unavailable.' },
  504: { str: 'ERROR_GATEWAY_TIMEOUT', code: 'ERROR_GATEWAY_TIMEOUT', message: 'Gateway Timeout.' },
};

export interface AilabtoolsFault {
  /** one of the statuses the OpenAPI lists */
  status?: number;
  /** never answer (the client's silence timeout is what ends it) */
  hang?: boolean;
}

export interface AilabtoolsEmulator {
  /** AILABTOOLS_ENDPOINT: the base URL up to and including /api/v1/ailabtools/product-background-removal */
  endpoint: string;
  apiKey: string;
  /** every authenticated request, in arrival order */
  calls: Array<{ returnForm?: string; fields: string[]; imageBytes: number; at: number }>;
  injectFault(fault: AilabtoolsFault, times?: number): void;
  clearFaults(): void;
  close(): Promise<void>;
}

function ids() {
  return { request_id: randomUUID(), log_id: randomUUID().replace(/-/g, '') };
}

function fail(res: ServerResponse, status: number, message?: string): void {
  const error = ERRORS[status] ?? ERRORS[500];
  sendJson(
    res,
    status,
    { ...ids(), error_code: status, error_code_str: error.str, error_msg: message ?? error.message, error_detail: { status_code: status, code: error.code, code_message: error.message, message: message ?? '' } },
    status === 429 ? { 'retry-after': '1' } : {},
  );
}

export async function startAilabtoolsEmulator(options: { apiKey?: string } = {}): Promise<AilabtoolsEmulator> {
  const apiKey = options.apiKey ?? 'ailabtools-emulator-key';
  const calls: AilabtoolsEmulator['calls'] = [];
  const faults = new FaultQueue<AilabtoolsFault>();
  const server = await startPeerServer(async (req, res, url, body) => {
    if (url.pathname !== OPERATION) return fail(res, 404);
    if (req.method !== 'POST') return fail(res, 405);
    const key = req.headers['x-api-market-key'];
    if (!key) return fail(res, 401, 'x-api-market-key header is required');
    if (key !== apiKey) return fail(res, 403, 'the API key is not valid');
    let form: FormData;
    try {
      form = await new Request('http://emulator/', { method: 'POST', headers: { 'content-type': req.headers['content-type'] ?? '' }, body: new Uint8Array(body) }).formData();
    } catch {
      return fail(res, 415, 'the request body must be multipart/form-data');
    }
    const image = form.get('image');
    const returnForm = form.get('return_form');
    calls.push({ ...(typeof returnForm === 'string' ? { returnForm } : {}), fields: [...form.keys()], imageBytes: image instanceof Blob ? image.size : 0, at: Date.now() });
    const fault = faults.take();
    if (fault?.hang) return;
    if (fault?.status) return fail(res, fault.status);
    if (!(image instanceof Blob)) return fail(res, 400, 'image is required (a file)');
    if (returnForm !== null && (typeof returnForm !== 'string' || !FORMS[returnForm])) return fail(res, 400, `return_form must be one of mask, whiteBK, crop`);
    if (image.size > MAX_BYTES) return fail(res, 413, 'Image size: no more than 3 MB');
    const decoded = await decodeInput(Buffer.from(await image.arrayBuffer()));
    if (!decoded || !['jpeg', 'png', 'bmp'].includes(decoded.raster.format)) return fail(res, 415, 'Image format: JPEG JPG BMP PNG');
    if (decoded.raster.format === 'png' && decoded.bitDepth !== 'uchar') return fail(res, 415, 'Image format: 16-bit and 64-bit PNG not supported');
    if (decoded.raster.width >= 2000 || decoded.raster.height >= 2000) return fail(res, 422, 'Image resolution: less than 2000x2000px');
    const result = await renderCutout(decoded.raster, typeof returnForm === 'string' ? FORMS[returnForm] : 'transparent');
    sendJson(res, 200, {
      ...ids(),
      error_code: 0,
      error_code_str: '',
      error_msg: '',
      error_detail: { status_code: 200, code: '', code_message: '', message: '' },
      data: { image_url: server.blobs.putResult(result.bytes, result.ext) },
    });
  });
  return {
    endpoint: `${server.baseUrl}${AILABTOOLS_BASE_PATH}`,
    apiKey,
    calls,
    injectFault: (fault, times) => faults.push(fault, times),
    clearFaults: () => faults.clear(),
    close: () => server.close(),
  };
}
