import { AppError } from '../../errors.js';
import type { Config } from '../../config.js';
import type { Logger } from '../../logger.js';
import type { Provider, ProviderCall } from '../provider.js';
import { createActionCaller, type ActionCaller } from './client.js';
import { withRetries } from './retry.js';
import { expandJobData, waitForJob } from './jobs.js';

/** Alibaba only fetches image URLs; each image parameter must end up as one. */
function imageUrlParams(call: ProviderCall): Record<string, unknown> {
  const params = { ...call.params };
  for (const [field, image] of Object.entries(call.images)) {
    if (!image.sourceUrl) {
      throw new AppError('INVALID_ARGUMENT', `${field}: Alibaba Cloud fetches images by URL; pass an http(s) URL for ${call.capability.action}`, {
        details: { field },
      });
    }
    params[field] = image.sourceUrl;
  }
  return params;
}

export function isAsyncCall(call: ProviderCall): boolean {
  const mode = call.capability.async;
  return mode === 'always' || (mode === 'optional' && call.params.Async === true);
}

export function createAlibabaProvider(config: Config, logger: Logger, caller: ActionCaller = createActionCaller(config.alibaba)): Provider {
  const call = withRetries(caller, { retries: config.upstreamRetries, baseDelayMs: 250, logger });
  return {
    name: 'alibaba',
    supports: () => true,
    async run(providerCall) {
      const { action } = providerCall.capability;
      const body = await call(action, imageUrlParams(providerCall));
      const requestId = String(body.RequestId ?? '');
      const data = (body.Data ?? {}) as Record<string, unknown>;
      if (action === 'GetAsyncJobResult') return { requestId, data: expandJobData(data) };
      if (!isAsyncCall(providerCall)) return { requestId, data };
      // For asynchronous Actions Alibaba's RequestId is the JobId.
      const jobId = String(data.JobId ?? requestId);
      const jobData = await waitForJob(call, {
        jobId,
        action,
        polling: config.polling,
        deadlineMs: config.jobDeadlineMs,
        onProgress: providerCall.onProgress,
        signal: providerCall.signal,
      });
      return { requestId: jobId, data: jobData };
    },
  };
}
