import { AppError, type ErrorCode } from '../../errors.js';

interface SdkError {
  code?: string;
  message?: string;
  statusCode?: number;
  requestId?: string;
  data?: { RequestId?: string; Code?: string; Message?: string };
}

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EAI_AGAIN', 'ENOTFOUND', 'EPIPE', 'ReadTimeout', 'ConnectTimeout']);

function classify(code: string, status: number): { ours: ErrorCode; retryable: boolean } {
  if (code.includes('Throttling')) return { ours: 'UPSTREAM_THROTTLED', retryable: true };
  if (NETWORK_CODES.has(code) || status >= 500 || code === 'Timeout' || status === 408) return { ours: 'UPSTREAM_ERROR', retryable: true };
  if (code === 'InvalidImage.Download' || code === 'InvalidImage.URL' || code === 'InvalidImage.Region' || code === 'IllegalUrlParameter' || code === 'InvalidImage.Unsafe') {
    return { ours: 'IMAGE_UNREACHABLE', retryable: false };
  }
  if (code.startsWith('InvalidImage')) return { ours: 'IMAGE_INVALID', retryable: false };
  if (code === 'InvalidParameter.TooLarge') return { ours: 'IMAGE_TOO_LARGE', retryable: false };
  if (code.startsWith('InvalidParameter') || code.startsWith('MissingParameter') || code.startsWith('Missing') || code === 'ParameterError') {
    return { ours: 'INVALID_ARGUMENT', retryable: false };
  }
  if (code.startsWith('InvalidAccessKeyId') || code === 'SignatureDoesNotMatch' || code === 'InvalidApi.NotPurchase' || code === 'Unauthorized' || code === 'InvalidCredentials') {
    return { ours: 'PROVIDER_NOT_CONFIGURED', retryable: false };
  }
  return { ours: 'UPSTREAM_ERROR', retryable: false };
}

/**
 * Alibaba's SignatureDoesNotMatch carries the server's string-to-sign (request parameters, nonce, timestamp): a
 * signing oracle for whoever reads it. It stays in the cause (the server log); the client's message ends before it.
 */
export function redactUpstreamMessage(message: string): string {
  return message.replace(/[\s.,;:]*(server\s+)?string[\s_-]*to[\s_-]*sign[\s\S]*$/i, '') + (/string[\s_-]*to[\s_-]*sign/i.test(message) ? ' (signature details are in the server log)' : '');
}

/** Maps an error thrown by the Alibaba SDK to ours, keeping Alibaba's Code and RequestId in details. */
export function fromSdkError(error: unknown, action: string): AppError {
  if (error instanceof AppError) return error;
  const sdkError = (error ?? {}) as SdkError;
  // String(): some errors carry numeric codes (DOMException's AbortError has 20).
  const alibabaCode = String(sdkError.code ?? sdkError.data?.Code ?? 'Unknown');
  const status = sdkError.statusCode ?? 0;
  const requestId = sdkError.requestId ?? sdkError.data?.RequestId;
  const { ours, retryable } = classify(alibabaCode, status);
  const upstreamMessage = redactUpstreamMessage(sdkError.data?.Message ?? sdkError.message ?? 'no message');
  const hint = ours === 'PROVIDER_NOT_CONFIGURED' ? ' Check ALIBABA_CLOUD_ACCESS_KEY_ID / ALIBABA_CLOUD_ACCESS_KEY_SECRET and that imageseg is activated.' : '';
  return new AppError(ours, `Alibaba ${action} failed: ${alibabaCode}: ${upstreamMessage}${hint}`, {
    retryable,
    details: { provider: 'alibaba', action, alibabaCode, ...(status ? { httpStatus: status } : {}), ...(requestId ? { requestId } : {}) },
    cause: error,
  });
}
