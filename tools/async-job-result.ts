import { z } from 'zod';
import { defineCapability } from '../src/catalog/capability.js';

/** 查询异步任务结果 GetAsyncJobResult (imageseg 2019-12-30). */
export const asyncJobResult = defineCapability({
  serviceId: 'async-job-result',
  legacyIds: ['aliyun-imageseg-get-async-job-result'],
  kind: 'utility',
  action: 'GetAsyncJobResult',
  title: 'Async job result',
  summary:
    'Picks up an asynchronous job (hd_general_segmentation, or body_segmentation with Async=true) that outlived the call\'s deadline: pass the JobId from the JOB_TIMEOUT error (details.jobId). Returns Data.Status and, once PROCESS_SUCCESS, the result image; while the job is QUEUING or PROCESSING the answer says "still processing": call again in a few seconds. Results expire after 30 minutes. Free.',
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
        'The job id from a JOB_TIMEOUT answer (details.jobId) of hd_general_segmentation or body_segmentation.',
      ),
  },
  images: {},
  async: 'never',
  price: null,
  resultShape: 'Job',
  jobResult: {
    jobIdParameter: 'JobId',
    statusField: 'Status',
    succeeded: ['PROCESS_SUCCESS'],
    failed: ['PROCESS_FAILED', 'TIMEOUT_FAILED', 'LIMIT_RETRY_FAILED'],
  },
});
