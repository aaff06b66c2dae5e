import { AppError, type ErrorCode } from '../../errors.js';
import { retryAfterOf, type PeerResponse } from '../peer/request.js';

/** Aidge's answer: `resCode` 200 on success, else one of its error codes; the gateway's own errors carry `code`/`type`. */
export interface AidgeBody {
  resCode?: number;
  resMessage?: string;
  success?: boolean;
  requestId?: string;
  request_id?: string;
  code?: string;
  type?: string;
  message?: string;
  data?: { imageUrl?: string; width?: number; height?: number };
}

/**
 * Its documented codes as ours: 501 is throttling, 500 and 801 its own failure, 700 the input (resMessage names the
 * field), 1000-1002 its content-risk filter — the user's image, not retried anywhere.
 */
const RES_CODES: Readonly<Record<number, { code: ErrorCode; retryable: boolean }>> = {
  500: { code: 'UPSTREAM_ERROR', retryable: true },
  501: { code: 'UPSTREAM_THROTTLED', retryable: true },
  700: { code: 'IMAGE_INVALID', retryable: false },
  801: { code: 'UPSTREAM_ERROR', retryable: true },
  1000: { code: 'CONTENT_REJECTED', retryable: false },
  1001: { code: 'CONTENT_REJECTED', retryable: false },
  1002: { code: 'CONTENT_REJECTED', retryable: false },
};

function gatewayError(response: PeerResponse, body: AidgeBody): AppError {
  const status = response.status;
  const throttled = status === 429 || /limit|flow/i.test(body.code ?? '');
  // Its gateway refuses keys and signatures with `type: ISV`/`ISP` codes: our configuration, not the user's call.
  const credentials = /sign|appkey|app_key|invalidkey|accesskey/i.test(body.code ?? '');
  const code: ErrorCode = throttled ? 'UPSTREAM_THROTTLED' : credentials ? 'PROVIDER_NOT_CONFIGURED' : 'UPSTREAM_ERROR';
  const said = body.message ?? body.code ?? `HTTP ${status}`;
  return new AppError(code, credentials ? `Aidge refused AIDGE_APP_KEY/AIDGE_APP_SECRET: ${said}` : `Aidge: ${said}`, {
    retryable: code !== 'PROVIDER_NOT_CONFIGURED',
    ...(throttled ? { retryAfterSeconds: retryAfterOf(response.headers) ?? 1 } : {}),
    details: { provider: 'aidge', httpStatus: status, ...(body.code ? { providerCode: body.code } : {}), ...(body.request_id ? { requestId: body.request_id } : {}) },
  });
}

export function aidgeError(response: PeerResponse): AppError {
  const body = (response.body ?? {}) as AidgeBody;
  if (response.status !== 200 || body.resCode === undefined) return gatewayError(response, body);
  const mapped = RES_CODES[body.resCode] ?? { code: 'UPSTREAM_ERROR' as const, retryable: true };
  const said = body.resMessage ?? `resCode ${body.resCode}`;
  const message = mapped.code === 'CONTENT_REJECTED' ? `Aidge refused the image's content: ${said}` : `Aidge: ${said}`;
  return new AppError(mapped.code, message, {
    retryable: mapped.retryable,
    ...(mapped.code === 'UPSTREAM_THROTTLED' ? { retryAfterSeconds: retryAfterOf(response.headers) ?? 1 } : {}),
    details: { provider: 'aidge', providerCode: String(body.resCode), ...(body.requestId ? { requestId: body.requestId } : {}) },
  });
}
