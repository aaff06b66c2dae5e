import type { Logger } from '../../logger.js';
import type { ActionCaller } from './client.js';
import { fromSdkError } from './errors.js';

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
export async function retrying<T>(label: string, operation: () => Promise<T>, options: RetryOptions): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await operation();
    } catch (error) {
      const mapped = fromSdkError(error, label);
      if (!mapped.retryable || attempt >= options.retries) throw mapped;
      const delay = Math.random() * options.baseDelayMs * 2 ** attempt;
      options.logger.warn({ action: label, code: mapped.options.details?.alibabaCode, attempt: attempt + 1, delayMs: Math.round(delay) }, 'retrying Alibaba call');
      await sleep(delay);
    }
  }
}

export function withRetries(call: ActionCaller, options: RetryOptions): ActionCaller {
  return (action, params) => retrying(action, () => call(action, params), options);
}
