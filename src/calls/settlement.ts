import { withPayment, type AppError } from '../errors.js';
import type { Capability } from '../catalog/capability.js';
import type { Catalog } from '../catalog/lookup.js';
import type { ToolOutput } from '../catalog/schemas.js';
import type { Logger } from '../logger.js';
import { nothingHeld, type CallRecordStore, type PaymentCredentials, type PaymentGate, type Reservation } from '../payments/index.js';
import type { ResultImage } from '../results/types.js';
import { recordAnswer, type IdempotentIdentity, type RecordedHold } from './idempotency.js';
import { jobRecorder, jobToResume, keepPaymentForJob, settlementOf } from './jobs.js';
import { afterSettling } from './after-settling.js';

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

/**
 * Where one call's money is. `none`: nothing was reserved (a free tool, PAYMENTS=off, a job already paid for).
 * `reserved` -> `committed` (the caller is handed the result) | `released` (given back, x402 never settled) |
 * `held` (a job outlived the deadline; async_job_result later commits or releases it). Each move happens once.
 */
export type PaymentState = 'none' | 'reserved' | 'held' | 'committed' | 'released';

/** What a successful answer says in `payment`. */
export type AnsweredPayment = Exclude<PaymentState, 'reserved'>;

const NEXT: Record<PaymentState, readonly PaymentState[]> = {
  none: [],
  reserved: ['committed', 'released', 'held'],
  held: ['committed', 'released'],
  committed: [],
  released: [],
};

/** One call's money, from reservation to its final state, with its idempotency record and its job. */
export interface CallSettlement {
  readonly state: PaymentState;
  /** For asynchronous Actions: records the job as this payer's as soon as it is submitted. */
  onJobSubmitted?: (jobId: string) => Promise<void>;
  /**
   * The result is in the answer: recorded for the idempotency key, then committed. A failure before the commit
   * fails the call (nothing taken); nothing after it can.
   */
  succeed(answer: DeliveredAnswer): Promise<{ receipt?: unknown; output: ToolOutput & { payment: AnsweredPayment } }>;
  /** Anything else: released (a timed-out job's payment is held instead); the error comes back saying which. */
  fail(error: AppError): Promise<AppError>;
}

/**
 * Reserves the call's payment. A GetAsyncJobResult-like call (`jobResult` role) pays nothing itself: it resumes the
 * held payment of the job it names, which only that job's payer may do. A refusal here frees the idempotency key.
 */
export async function openSettlement(
  dependencies: SettlementDependencies,
  capability: Capability,
  params: Record<string, unknown>,
  payment: PaymentCredentials,
  payer: string,
  identity?: IdempotentIdentity,
): Promise<CallSettlement> {
  const { catalog, payments, records, leaseMs, logger } = dependencies;
  const dropKey = async () => {
    if (identity) await (await records()).dropIdempotencyKey(identity.scope, identity.key);
  };

  let reservation: Reservation;
  let state: PaymentState;
  let resumed: Awaited<ReturnType<typeof jobToResume>> | undefined;
  try {
    resumed = capability.jobResult ? await jobToResume(await records(), capability.jobResult, params, payer) : undefined;
    const paidFor = resumed && catalog.find(resumed.serviceId);
    if (!resumed) reservation = await payments.reserve(capability, payment);
    else reservation = resumed.state === 'held' && paidFor ? payments.resume(paidFor, resumed.hold!) : nothingHeld;
    state = reservation === nothingHeld ? 'none' : resumed ? 'held' : 'reserved';
  } catch (error) {
    await dropKey().catch((dropError: unknown) => logger.error({ tool: capability.tool, err: dropError }, 'idempotency key could not be freed'));
    throw error;
  }
  const jobs = capability.async === 'never' ? undefined : jobRecorder(records, capability, payer, leaseMs);
  let heldUntil = resumed?.holdUntil;

  function move(to: PaymentState) {
    if (!NEXT[state].includes(to)) throw new Error(`a payment ${state} cannot become ${to}`);
    state = to;
  }

  async function closeJob(jobId: string, closed: 'committed' | 'released', requestId: string) {
    await afterSettling(logger, { step: `close job as ${closed}`, tool: capability.tool, requestId, jobId }, async () => (await records()).closeJob(jobId, closed, Date.now()));
  }

  /** What the answer will say: a job result's status says whether its held payment is due now, never, or not yet. */
  function finalState(answer: DeliveredAnswer): AnsweredPayment {
    if (state === 'none') return 'none';
    const due = resumed ? settlementOf(capability.jobResult!, answer.data) : 'commit';
    return due === 'commit' ? 'committed' : due === 'release' ? 'released' : 'held';
  }

  async function settleResumedJob(answer: DeliveredAnswer): Promise<{ receipt?: unknown }> {
    const due = settlementOf(capability.jobResult!, answer.data);
    if (due === 'keep' || state === 'none') {
      if (due !== 'keep') await closeJob(resumed!.jobId, due === 'commit' ? 'committed' : 'released', answer.output.requestId);
      return {};
    }
    if (due === 'release') {
      await reservation.release();
      move('released');
      await closeJob(resumed!.jobId, 'released', answer.output.requestId);
      return {};
    }
    const committed = await reservation.commit();
    move('committed');
    logger.info({ tool: capability.tool, jobId: resumed!.jobId }, 'timed-out job delivered and paid');
    await closeJob(resumed!.jobId, 'committed', answer.output.requestId);
    return committed;
  }

  async function commitCall(answer: DeliveredAnswer): Promise<{ receipt?: unknown }> {
    if (state === 'none') return {};
    const committed = await reservation.commit();
    move('committed');
    if (jobs?.jobId) await closeJob(jobs.jobId, 'committed', answer.output.requestId);
    return committed;
  }

  async function release(error: AppError) {
    if (state === 'reserved') {
      try {
        await reservation.release();
      } catch (releaseError) {
        // Still nothing taken: a token use held past its lease comes back, and an x402 payment is only ever settled on success.
        logger.error({ tool: capability.tool, code: error.code, err: releaseError }, 'payment reservation could not be released; its lease will lapse');
      }
      move('released');
    }
    if (jobs?.jobId) await closeJob(jobs.jobId, 'released', String(error.options.details?.requestId ?? ''));
  }

  /** A free job is kept too (holding nothing), so that async_job_result can pick it up. */
  async function hold(error: AppError) {
    try {
      heldUntil = await keepPaymentForJob(await records(), reservation, jobs!.jobId!);
      if (state === 'reserved') move('held');
    } catch (holdError) {
      logger.error({ tool: capability.tool, jobId: jobs!.jobId, err: holdError }, 'a timed-out job\'s payment could not be kept; released instead');
      await release(error);
    }
  }

  return {
    get state() {
      return state;
    },
    ...(jobs ? { onJobSubmitted: (jobId: string) => jobs.onJobSubmitted(jobId) } : {}),
    async succeed(answer) {
      const output = { ...answer.output, payment: finalState(answer) };
      // Recorded before the commit, so a failure after it can replay the answer but never charge a retry again.
      if (identity) await (await records()).finishIdempotencyKey(identity.scope, identity.key, JSON.stringify(recordAnswer(output, undefined, answer.images, answer.inline)));
      const { receipt } = resumed ? await settleResumedJob(answer) : await commitCall(answer);
      if (identity && receipt) {
        const recorded = JSON.stringify(recordAnswer(output, receipt, answer.images, answer.inline));
        await afterSettling(logger, { step: 'record the receipt', tool: capability.tool, requestId: output.requestId }, async () => (await records()).finishIdempotencyKey(identity.scope, identity.key, recorded));
      }
      return { receipt, output };
    },
    async fail(error) {
      if (!resumed) {
        if (error.code === 'JOB_TIMEOUT' && jobs?.jobId) await hold(error);
        else await release(error);
      }
      const jobId = resumed?.jobId ?? jobs?.jobId;
      const answered = state === 'held' && jobId && heldUntil ? withPayment(error, 'held', { jobId, heldUntil }) : withPayment(error, state === 'released' ? 'released' : 'none');
      if (identity) {
        // A held payment stays this key's answer until the hold ends: a retry pays nothing and learns where the job is.
        const keep = state === 'held' && heldUntil ? JSON.stringify({ error: answered.toBody().error } satisfies RecordedHold) : undefined;
        await (async () => {
          const store = await records();
          if (keep) await store.finishIdempotencyKey(identity.scope, identity.key, keep, heldUntil);
          else await store.dropIdempotencyKey(identity.scope, identity.key);
        })().catch((keyError: unknown) => logger.error({ tool: capability.tool, err: keyError }, 'the idempotency key could not be updated; it frees itself when its lease ends'));
      }
      return answered;
    },
  };
}
