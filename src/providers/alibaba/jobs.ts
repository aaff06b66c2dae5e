import { AppError } from '../../errors.js';
import type { Config } from '../../config.js';
import type { Progress } from '../provider.js';
import type { ActionCaller } from './client.js';
import type { DurationLearner } from './job-durations.js';
import { pollSchedule } from './poll-schedule.js';
import { sleep } from './retry.js';

const FAILED_STATUSES = new Set(['PROCESS_FAILED', 'TIMEOUT_FAILED', 'LIMIT_RETRY_FAILED']);

/** GetAsyncJobResult's Data with its `Result` JSON string parsed and spread beside it. */
export function expandJobData(data: Record<string, unknown>): Record<string, unknown> {
  if (typeof data.Result !== 'string' || !data.Result) return data;
  try {
    const parsed: unknown = JSON.parse(data.Result);
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? { ...data, ...(parsed as Record<string, unknown>) } : data;
  } catch {
    return data;
  }
}

export interface JobWatch {
  jobId: string;
  action: string;
  polling: Config['polling'];
  /** What this process learned of the Action's job durations; it learns this job's too. */
  durations: DurationLearner;
  deadlineMs: number;
  onProgress?: (progress: Progress) => void;
  signal?: AbortSignal;
}

/**
 * Polls GetAsyncJobResult on the Action's schedule until the job ends or the deadline passes. A success teaches
 * the schedule the job's duration: between the poll that saw it running and the one that saw it done.
 */
export async function waitForJob(call: ActionCaller, watch: JobWatch): Promise<Record<string, unknown>> {
  const { jobId, action } = watch;
  const submittedAt = Date.now();
  const deadline = submittedAt + watch.deadlineMs;
  const offsetOf = pollSchedule(watch.polling, watch.durations.estimate(action));
  let polls = 0;
  let previousPollMs = 0;
  let lastStatus = 'SUBMITTED';
  watch.onProgress?.({ progress: 0, message: `${action} job ${jobId} submitted` });
  while (Date.now() < deadline) {
    await sleep(Math.max(0, Math.min(submittedAt + offsetOf(polls + 1), deadline) - Date.now()), watch.signal);
    const pollMs = Date.now() - submittedAt;
    const body = await call('GetAsyncJobResult', { JobId: jobId }, watch.signal);
    const data = body.Data ?? {};
    const status = String(data.Status ?? data.status ?? 'UNKNOWN');
    polls += 1;
    lastStatus = status;
    watch.onProgress?.({ progress: polls, message: `${action} job ${jobId}: ${status}` });
    if (status === 'PROCESS_SUCCESS') {
      watch.durations.observe(action, previousPollMs, pollMs);
      return expandJobData({ ...data, JobId: data.JobId ?? jobId });
    }
    if (FAILED_STATUSES.has(status)) {
      throw new AppError('JOB_FAILED', `${action} job ${jobId} ended ${status}: ${String(data.ErrorCode ?? '')} ${String(data.ErrorMessage ?? '')}`.trim(), {
        details: { provider: 'alibaba', action, jobId, status, alibabaCode: data.ErrorCode, alibabaMessage: data.ErrorMessage, requestId: body.RequestId },
      });
    }
    previousPollMs = pollMs;
  }
  throw new AppError('JOB_TIMEOUT', `${action} job ${jobId} still ${lastStatus} after ${Math.round(watch.deadlineMs / 1000)} s; call async_job_result with {"JobId":"${jobId}"} to continue`, {
    retryable: true,
    details: { provider: 'alibaba', action, jobId, status: lastStatus },
  });
}
