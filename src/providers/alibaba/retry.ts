import type { Logger } from '../../logger.js';
import type { ActionCaller } from './client.js';
import { fromSdkError } from './errors.js';
import { AppError } from '../../errors.js';

export const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });

export interface RetryOptions {
  retries: number;
  baseDelayMs: number;
  logger: Logger;
}

/**
 * Runs the operation again after throttling, server and network errors with full-jitter exponential backoff, a
 * bounded number of times; every error leaves here already mapped to our codes (`label` names the Action).
 */
export async function retrying<T>(label: string, operation: () => Promise<T>, options: RetryOptions, signal?: AbortSignal): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await operation();
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      const mapped = fromSdkError(error, label);
      if (!mapped.retryable) throw mapped;
      // The next backoff we would have waited is the honest hint for a client that retries the whole call.
      if (attempt >= options.retries) throw withRetryAfter(mapped, options.baseDelayMs * 2 ** (attempt + 1));
      const delay = Math.random() * options.baseDelayMs * 2 ** attempt;
      options.logger.warn({ action: label, code: mapped.options.details?.alibabaCode, attempt: attempt + 1, delayMs: Math.round(delay) }, 'retrying Alibaba call');
      await sleep(delay, signal);
    }
  }
}

function withRetryAfter(error: AppError, delayMs: number): AppError {
  if (error.options.retryAfterSeconds !== undefined) return error;
  return new AppError(error.code, error.message, { ...error.options, retryAfterSeconds: Math.max(1, Math.ceil(delayMs / 1000)) });
}

export function withRetries(call: ActionCaller, options: RetryOptions): ActionCaller {
  return (action, params, signal) => retrying(action, () => call(action, params, signal), options, signal);
}
