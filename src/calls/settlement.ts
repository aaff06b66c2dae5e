import type { AppError } from '../errors.js';
import type { Capability } from '../catalog/capability.js';
import type { Catalog } from '../catalog/lookup.js';
import type { ToolOutput } from '../catalog/schemas.js';
import type { Logger } from '../logger.js';
import { nothingHeld, type CallRecordStore, type PaymentCredentials, type PaymentGate, type Reservation } from '../payments/index.js';
import type { ResultImage } from '../providers/provider.js';
import { recordAnswer, type IdempotentIdentity } from './idempotency.js';
import { jobRecorder, jobToResume, keepPaymentForJob, settlementOf } from './jobs.js';

export interface SettlementDependencies {
  catalog: Catalog;
  payments: PaymentGate;
  records: () => Promise<CallRecordStore>;
  leaseMs: number;
  logger: Logger;
}

export interface DeliveredAnswer {
  output: ToolOutput;
  images: ResultImage[];
  inline: ResultImage[];
  /** The provider's `Data`: for a job result, its status says whether the held payment is due. */
  data: Record<string, unknown>;
}

/** One call's money, from reservation to commit or release, with its idempotency record and its job. */
export interface CallSettlement {
  /** For asynchronous Actions: records the job as this payer's as soon as it is submitted. */
  onJobSubmitted?: (jobId: string) => Promise<void>;
  /** The result is in the answer: record it for the idempotency key, then commit. */
  succeed(answer: DeliveredAnswer): Promise<{ receipt?: unknown }>;
  /** Anything else: release (a timed-out job keeps its payment instead) and free the idempotency key. */
  fail(error: AppError): Promise<void>;
}

/**
 * Reserves the call's payment. A GetAsyncJobResult-like call (`jobResult` role) pays nothing itself: it resumes the
 * held payment of the job it names, which only that job's payer may do.
 */
export async function openSettlement(
  dependencies: SettlementDependencies,
  capability: Capability,
  params: Record<string, unknown>,
  payment: PaymentCredentials,
  identity?: IdempotentIdentity,
): Promise<CallSettlement> {
  const { catalog, payments, records, leaseMs, logger } = dependencies;
  // Who pays matters only to jobs (a hash of the token): worked out once, and not at all for plain calls.
  let payer: string | undefined;
  const payerOnce = () => (payer ??= payments.payerOf(payment));
  const resumed = capability.jobResult ? await jobToResume(await records(), capability.jobResult, params, payerOnce()) : undefined;
  const paidFor = resumed && catalog.find(resumed.serviceId);
  let reservation: Reservation;
  if (!resumed) reservation = await payments.reserve(capability, payment);
  else reservation = resumed.state === 'held' && paidFor ? payments.resume(paidFor, resumed.hold!) : nothingHeld;
  const jobs = capability.async === 'never' ? undefined : jobRecorder(records, capability, payerOnce(), leaseMs);

  async function remember(answer: DeliveredAnswer, receipt?: unknown) {
    if (identity) await (await records()).finishIdempotencyKey(identity.scope, identity.key, JSON.stringify(recordAnswer(answer.output, receipt, answer.images, answer.inline)));
  }

  async function commitResumedJob(answer: DeliveredAnswer): Promise<{ receipt?: unknown }> {
    const settlement = settlementOf(capability.jobResult!, answer.data);
    if (settlement === 'keep') return {};
    const store = await records();
    if (settlement === 'release') {
      await reservation.release();
      await store.closeJob(resumed!.jobId, 'released', Date.now());
      return {};
    }
    const committed = await reservation.commit();
    if (await store.closeJob(resumed!.jobId, 'committed', Date.now())) logger.info({ tool: capability.tool, jobId: resumed!.jobId }, 'timed-out job delivered and paid');
    return committed;
  }

  return {
    ...(jobs ? { onJobSubmitted: (jobId: string) => jobs.onJobSubmitted(jobId) } : {}),
    async succeed(answer) {
      // Recorded before the commit, so a crash in between can replay an answer but never charge a retry again.
      await remember(answer);
      const { receipt } = resumed ? await commitResumedJob(answer) : await reservation.commit();
      if (receipt) await remember(answer, receipt);
      if (jobs?.jobId) await (await records()).closeJob(jobs.jobId, 'committed', Date.now());
      return { receipt };
    },
    async fail(error) {
      const store = await records();
      // A resumed job's payment stays held for the next try; a timed-out job's is kept for async_job_result.
      if (resumed) logger.debug({ tool: capability.tool, jobId: resumed.jobId }, 'job result not delivered; its payment stays held');
      else if (error.code === 'JOB_TIMEOUT' && jobs?.jobId) await keepPaymentForJob(store, reservation, jobs.jobId);
      else {
        await reservation.release();
        if (jobs?.jobId) await store.closeJob(jobs.jobId, 'released', Date.now());
      }
      if (identity) await store.dropIdempotencyKey(identity.scope, identity.key);
    },
  };
}
