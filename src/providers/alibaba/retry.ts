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

/**
 * Retries throttling and server errors with full-jitter exponential backoff, a bounded number of times; every
 * error leaves here already mapped to our codes.
 */
export function withRetries(call: ActionCaller, options: { retries: number; baseDelayMs: number; logger: Logger }): ActionCaller {
  return async (action, params) => {
    for (let attempt = 0; ; attempt++) {
      try {
        return await call(action, params);
      } catch (error) {
        const mapped = fromSdkError(error, action);
        if (!mapped.retryable || attempt >= options.retries) throw mapped;
        const delay = Math.random() * options.baseDelayMs * 2 ** attempt;
        options.logger.warn({ action, code: mapped.options.details?.alibabaCode, attempt: attempt + 1, delayMs: Math.round(delay) }, 'retrying Alibaba call');
        await sleep(delay);
      }
    }
  };
}
