import { AppError } from '../errors.js';
import type { Capability, JobResultRole } from '../catalog/capability.js';
import type { CallRecordStore, JobRecord, Reservation } from '../payments/index.js';

/** The reference: an asynchronous job's result files expire 30 minutes after it ends. */
const JOB_RESULT_LIFETIME_MS = 30 * 60_000;

/** What the pipeline does with a job's held payment once GetAsyncJobResult has answered. */
export type JobSettlement = 'commit' | 'release' | 'keep';

/** Records every asynchronous job a call submits, so only its payer can resume it later. */
export function jobRecorder(records: () => Promise<CallRecordStore>, capability: Capability, payer: string, leaseMs: number) {
  let jobId: string | undefined;
  return {
    get jobId() {
      return jobId;
    },
    async onJobSubmitted(submitted: string) {
      jobId = submitted;
      const now = Date.now();
      await (await records()).recordJob({ jobId: submitted, serviceId: capability.serviceId, payer, now, holdUntil: now + leaseMs });
    },
  };
}

/** JOB_TIMEOUT: the job runs on upstream, so its payment stays held until its result would have expired there. */
export async function keepPaymentForJob(records: CallRecordStore, reservation: Reservation, jobId: string): Promise<number> {
  const until = Date.now() + JOB_RESULT_LIFETIME_MS;
  await records.holdJob(jobId, await reservation.keep(until), until);
  return until;
}

/**
 * The job a GetAsyncJobResult call names, if this caller may resume it: one this server started for the same
 * payer. Anyone else's job, or one never seen, is answered alike.
 */
export async function jobToResume(records: CallRecordStore, role: JobResultRole, params: Record<string, unknown>, payer: string, now = Date.now()): Promise<JobRecord> {
  const jobId = String(params[role.jobIdParameter] ?? '');
  const job = await records.findJob(jobId);
  if (!job || job.payer !== payer) {
    throw new AppError('NOT_FOUND', `No job ${jobId} was started on this server with these credentials; pass the same payment token (or x402 payer) that paid for it`, {
      details: { jobId },
    });
  }
  if (job.state === 'running' && job.holdUntil <= now) {
    // Its call ended without closing it: it delivered (a write after its commit failed) or its process died.
    throw new AppError('NOT_FOUND', `Job ${jobId} was answered by the call that started it, or that call ended without keeping its payment; nothing is held for it`, {
      details: { jobId },
    });
  }
  if (job.state === 'running') {
    throw new AppError('IDEMPOTENCY_IN_PROGRESS', `Job ${jobId} is still followed by the call that started it; that call's answer will carry the result`, {
      retryable: true,
      retryAfterSeconds: 5,
      details: { jobId },
    });
  }
  if (job.state === 'released') {
    throw new AppError('NOT_FOUND', `Job ${jobId} was cancelled or failed, and was not paid for; its result is not available`, { details: { jobId } });
  }
  return job;
}

export function settlementOf(role: JobResultRole, data: Record<string, unknown>): JobSettlement {
  const status = String(data[role.statusField] ?? '');
  if (role.succeeded.includes(status)) return 'commit';
  if (role.failed.includes(status)) return 'release';
  return 'keep';
}
