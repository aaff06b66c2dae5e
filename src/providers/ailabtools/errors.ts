import { AppError, type ErrorCode } from '../../errors.js';
import { retryAfterOf, type PeerResponse } from '../peer/request.js';

/** ailabtools' error body (commonResponses in its OpenAPI): `error_code` equals the HTTP status when it is not 200. */
export interface AilabtoolsBody {
  request_id?: string;
  log_id?: string;
  error_code?: number;
  error_code_str?: string;
  error_msg?: string;
  error_detail?: { status_code?: number; code?: string; code_message?: string; message?: string };
  data?: { image_url?: string };
}

/**
 * The statuses its OpenAPI lists, as our codes. 400/415/422 are the image or a parameter (the user's: no other
 * provider would do better), 413 the size; 401/403 our key; 429 throttling; the rest its own trouble.
 */
function codeOf(status: number): { code: ErrorCode; retryable: boolean } {
  if (status === 429) return { code: 'UPSTREAM_THROTTLED', retryable: true };
  if (status === 413) return { code: 'IMAGE_TOO_LARGE', retryable: false };
  if (status === 400 || status === 415 || status === 422) return { code: 'IMAGE_INVALID', retryable: false };
  if (status === 401 || status === 403) return { code: 'PROVIDER_NOT_CONFIGURED', retryable: false };
  return { code: 'UPSTREAM_ERROR', retryable: status >= 500 || status === 409 };
}

export function ailabtoolsError(response: PeerResponse): AppError {
  const body = (response.body ?? {}) as AilabtoolsBody;
  const status = response.status === 200 ? body.error_code || 502 : response.status;
  const { code, retryable } = codeOf(status);
  const detail = body.error_detail;
  const said = [detail?.code_message ?? body.error_msg, detail?.message].filter(Boolean).join(': ') || `HTTP ${status}`;
  const prefix = code === 'PROVIDER_NOT_CONFIGURED' ? 'ailabtools refused AILABTOOLS_API_KEY' : 'ailabtools';
  return new AppError(code, `${prefix}: ${said}`, {
    retryable,
    ...(code === 'UPSTREAM_THROTTLED' ? { retryAfterSeconds: retryAfterOf(response.headers) ?? 1 } : {}),
    details: {
      provider: 'ailabtools',
      httpStatus: status,
      ...(detail?.code ?? body.error_code_str ? { providerCode: detail?.code ?? body.error_code_str } : {}),
      ...(body.request_id ? { requestId: body.request_id } : {}),
    },
  });
}
