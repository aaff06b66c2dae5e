import type https from 'node:https';
import type { Config } from '../../config.js';
import type { Logger } from '../../logger.js';
import type { Provider, ProviderCall } from '../provider.js';
import { createActionCaller, openPlatformApi, type ActionCaller } from './client.js';
import { withRetries } from './retry.js';
import { createDurationLearner } from './job-durations.js';
import { expandJobData, waitForJob } from './jobs.js';
import { passthroughMatcher } from './passthrough.js';
import { createImageUploader, type ImageUploader } from './upload.js';

export interface AlibabaProviderOptions {
  /** imageseg Actions; default the official SDK client at config.alibaba.endpoint */
  caller?: ActionCaller;
  /** AuthorizeFileUpload; default the SDK's generic client at config.alibaba.openPlatformEndpoint */
  authorizeUpload?: ActionCaller;
  /** Agent of the OSS upload; default Node's global https agent (tests pass one that knows their emulator) */
  ossAgent?: https.Agent;
}

/**
 * Alibaba only fetches image URLs, and only from its Shanghai OSS region: a URL on a passthrough host goes as it
 * is; any other image (bytes we already hold, whatever their source) is uploaded the way the SDK's Advance calls do.
 */
async function imageUrlParams(call: ProviderCall, isPassthrough: (url: string) => boolean, upload: ImageUploader): Promise<Record<string, unknown>> {
  const params = { ...call.params };
  await Promise.all(
    Object.entries(call.images).map(async ([field, image]) => {
      params[field] =
        image.sourceUrl && isPassthrough(image.sourceUrl)
          ? image.sourceUrl
          : await upload(image, { field, action: call.capability.action, ...(call.signal ? { signal: call.signal } : {}) });
    }),
  );
  return params;
}

export function isAsyncCall(call: ProviderCall): boolean {
  const mode = call.capability.async;
  return mode === 'always' || (mode === 'optional' && call.params.Async === true);
}

export function createAlibabaProvider(config: Config, logger: Logger, options: AlibabaProviderOptions = {}): Provider {
  const retry = { retries: config.upstreamRetries, baseDelayMs: 250, logger };
  const call = withRetries(options.caller ?? createActionCaller(config.alibaba), retry);
  const upload = createImageUploader({
    authorize: options.authorizeUpload ?? createActionCaller(config.alibaba, openPlatformApi(config.alibaba)),
    retry,
    ...(options.ossAgent ? { agent: options.ossAgent } : {}),
    guard: config.images,
  });
  const isPassthrough = passthroughMatcher(config.passthroughHosts);
  // Learned per process, in memory: a restart polls on the prior until a few jobs were seen again.
  const durations = createDurationLearner();
  return {
    name: 'alibaba',
    supports: () => true,
    passesThrough: isPassthrough,
    async run(providerCall) {
      const { action } = providerCall.capability;
      const body = await call(action, await imageUrlParams(providerCall, isPassthrough, upload), providerCall.signal);
      const requestId = String(body.RequestId ?? '');
      const data = body.Data ?? {};
      if (providerCall.capability.jobResult) return { requestId, data: expandJobData(data) };
      if (!isAsyncCall(providerCall)) return { requestId, data };
      // For asynchronous Actions Alibaba's RequestId is the JobId.
      const jobId = String(data.JobId ?? requestId);
      await providerCall.onJobSubmitted?.(jobId);
      const jobData = await waitForJob(call, {
        jobId,
        action,
        polling: config.polling,
        durations,
        deadlineMs: config.jobDeadlineMs,
        onProgress: providerCall.onProgress,
        signal: providerCall.signal,
      });
      return { requestId: jobId, data: jobData };
    },
  };
}
