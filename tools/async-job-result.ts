import { z } from 'zod';
import { defineCapability } from '../src/catalog/capability.js';

/** 查询异步任务结果 GetAsyncJobResult (imageseg 2019-12-30). */
export const asyncJobResult = defineCapability({
  serviceId: 'async-job-result',
  legacyIds: ['aliyun-imageseg-get-async-job-result'],
  tool: 'async_job_result',
  action: 'GetAsyncJobResult',
  title: 'Async job result',
  summary:
    'Fetches the result of an asynchronous imageseg job (hd_general_segmentation, or body_segmentation called with Async=true) by its JobId. Returns Data.Status (QUEUING, PROCESSING, PROCESS_SUCCESS, PROCESS_FAILED, TIMEOUT_FAILED, LIMIT_RETRY_FAILED), Data.Result (a JSON string with the real result, e.g. {"ImageUrl": ...}), Data.ErrorCode and Data.ErrorMessage; result files expire after 30 minutes. Free.',
  keywords: [
    'GetAsyncJobResult',
    '查询异步任务结果',
    '阿里云分割抠图',
    'async job result',
    'asynchronous job',
    'job status',
    'poll',
    'task result',
    'JobId',
  ],
  input: {
    JobId: z
      .string()
      .min(1)
      .describe(
        'The RequestId returned by the asynchronous call (hd_general_segmentation, or body_segmentation with Async=true); identifies the job whose real result is fetched.',
      ),
  },
  images: {},
  async: 'never',
  price: null,
  jobResult: {
    jobIdParameter: 'JobId',
    statusField: 'Status',
    succeeded: ['PROCESS_SUCCESS'],
    failed: ['PROCESS_FAILED', 'TIMEOUT_FAILED', 'LIMIT_RETRY_FAILED'],
  },
});
