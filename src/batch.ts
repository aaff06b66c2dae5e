import { randomUUID } from 'node:crypto';
import { AppError, toAppError, withPayment } from './errors.js';
import type { Catalog } from './catalog/lookup.js';
import type { Capability } from './catalog/capability.js';
import type { ToolOutput } from './catalog/schemas.js';
import type { CallerKind } from './results/deliver.js';
import { freeBatch, type BatchCredit, type BatchPayment, type PaymentCredentials } from './payments/index.js';
import type { Progress } from './providers/provider.js';
import type { ResultImage } from './results/types.js';
import type { CallPipeline } from './call.js';
import { afterSettling } from './calls/after-settling.js';
import { claimKey, type ClaimDependencies } from './calls/claim.js';
import type { IdempotentIdentity } from './calls/idempotency.js';
import { answeredError, cancelledError, resolveCapability } from './calls/steps.js';

export const MAX_BATCH_ITEMS = 20;
/** Items run this many at a time: enough to overlap provider round trips, few enough to be fair to other callers. */
export const BATCH_CONCURRENCY = 4;
export const BATCH_ACTION = 'Batch';

export interface BatchRequest {
  /** The capability every item calls: serviceId, legacy id, tool name or Action. */
  tool: string;
  /** Each item: that capability's arguments, as for one call. */
  items: unknown;
  transport: CallerKind;
  payment?: PaymentCredentials;
  /** One notification per item done. */
  onProgress?: (progress: Progress) => void;
  signal?: AbortSignal;
  /** One key for the whole batch: it runs and pays once. */
  idempotencyKey?: string;
}

export type ItemResult =
  | { index: number; ok: true; requestId: string; data: Record<string, unknown>; payment: NonNullable<ToolOutput['payment']> }
  | { index: number; ok: false; error: ReturnType<AppError['toBody']>['error'] };

export interface BatchOutcome {
  capability: Capability;
  output: ToolOutput;
  /** The items' images the adapter should embed (MCP image content). */
  inline: ResultImage[];
  receipt?: unknown;
  replayed?: boolean;
}

export interface BatchDependencies extends ClaimDependencies {
  catalog: Catalog;
  pipeline: CallPipeline;
}

export type BatchRunner = (request: BatchRequest) => Promise<BatchOutcome>;

function itemsOf(items: unknown): Record<string, unknown>[] {
  const valid = Array.isArray(items) && items.length >= 1 && items.length <= MAX_BATCH_ITEMS && items.every((item) => item !== null && typeof item === 'object' && !Array.isArray(item));
  if (!valid) {
    throw new AppError('INVALID_ARGUMENT', `items must be an array of 1 to ${MAX_BATCH_ITEMS} argument objects, one per call`, { details: { fields: ['items'] } });
  }
  return items as Record<string, unknown>[];
}

async function eachAtMost<T>(count: number, limit: number, work: (index: number) => Promise<T>): Promise<T[]> {
  const results = new Array<T>(count);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const index = next++;
      results[index] = await work(index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, count) }, worker));
  return results;
}

const isPaymentError = (result: ItemResult) => !result.ok && (result.error.code === 'PAYMENT_REQUIRED' || result.error.code === 'PAYMENT_INVALID');

/** An x402-paid batch gave its failed items' value back as a token: each failed item says so. */
function credited(results: ItemResult[]): ItemResult[] {
  return results.map((result) => (result.ok ? result : { ...result, error: { ...result.error, details: { ...result.error.details, payment: 'credited' } } }));
}

/**
 * Many calls of one capability, each through THE call pipeline (validation, image checks, provider, delivery), paid
 * as a whole: unpaid is one 402 for items x the price; a token pays one use per item that succeeds; an x402
 * payment for the whole batch is settled once, and what failed comes back as a credit token. Nothing is committed
 * before the batch answer is ready and recorded; nothing after the commit can fail the batch.
 */
export function createBatchRunner(dependencies: BatchDependencies): BatchRunner {
  const { catalog, payments, records, logger, pipeline } = dependencies;

  async function runItems(request: BatchRequest, capability: Capability, items: Record<string, unknown>[], payment: BatchPayment) {
    const inline: ResultImage[] = [];
    let done = 0;
    const results = await eachAtMost(items.length, BATCH_CONCURRENCY, async (index): Promise<ItemResult> => {
      let result: ItemResult;
      try {
        const outcome = await pipeline({ tool: capability.serviceId, arguments: items[index], transport: request.transport, payment: payment.itemPayment, ...(request.signal ? { signal: request.signal } : {}) });
        inline.push(...outcome.inline);
        result = { index, ok: true, requestId: outcome.output.requestId, data: outcome.output.data, payment: outcome.output.payment ?? 'none' };
      } catch (error) {
        result = { index, ok: false, error: toAppError(error).toBody().error };
      }
      done += 1;
      request.onProgress?.({ progress: done, total: items.length, message: `item ${index} ${result.ok ? 'done' : `failed: ${result.error.code}`}` });
      return result;
    });
    return { results, inline };
  }

  function answerOf(capability: Capability, items: number, results: ItemResult[], requestId: string, free: boolean, credit?: BatchCredit): ToolOutput {
    const succeeded = results.filter((result) => result.ok).length;
    return {
      code: '200',
      content: `${capability.title}: ${succeeded} of ${items} item(s) succeeded${credit ? `; the ${credit.calls} failed item(s) came back as a payment token` : ''}`,
      data: { Action: BATCH_ACTION, ServiceId: capability.serviceId, Results: credit ? credited(results) : results, ...(credit ? { Credit: credit } : {}) },
      message: 'success',
      requestId,
      payment: free ? 'none' : succeeded > 0 ? 'committed' : 'released',
    };
  }

  async function run(request: BatchRequest, capability: Capability, items: Record<string, unknown>[], payment: BatchPayment, identity?: IdempotentIdentity): Promise<BatchOutcome> {
    const { results, inline } = await runItems(request, capability, items, payment);
    request.signal?.throwIfAborted();
    const succeeded = results.filter((result) => result.ok).length;
    // A token that pays for nothing (unknown, exhausted, another service's) is the batch's answer, not 20 item errors.
    if (succeeded === 0 && results.every(isPaymentError)) {
      const first = results[0] as Extract<ItemResult, { ok: false }>;
      throw new AppError(first.error.code, first.error.message, { retryable: first.error.retryable, details: first.error.details });
    }
    const requestId = randomUUID().toUpperCase();
    const record = (output: ToolOutput, receipt?: unknown) => JSON.stringify({ output, ...(receipt ? { receipt } : {}), images: [], inline: [] });
    // Recorded before the commit (without the credit token, which the commit makes): a retry never pays twice.
    if (identity) await (await records()).finishIdempotencyKey(identity.scope, identity.key, record(answerOf(capability, items.length, results, requestId, payment === freeBatch)));
    const { receipt, credit } = await payment.finish({ succeeded, failed: items.length - succeeded });
    const output = answerOf(capability, items.length, results, requestId, payment === freeBatch, credit);
    if (identity && (receipt || credit)) {
      await afterSettling(logger, { step: 'record the batch answer', tool: capability.tool, requestId }, async () => (await records()).finishIdempotencyKey(identity.scope, identity.key, record(output, receipt)));
    }
    logger.info({ tool: capability.tool, items: items.length, succeeded }, 'batch done');
    return { capability, output, inline, receipt };
  }

  async function runOnce(request: BatchRequest, capability: Capability, items: Record<string, unknown>[], identity?: IdempotentIdentity): Promise<BatchOutcome> {
    const dropKey = () => (identity ? records().then((store) => store.dropIdempotencyKey(identity.scope, identity.key)) : Promise.resolve());
    let payment: BatchPayment;
    try {
      payment = await payments.reserveBatch(capability, request.payment ?? {}, items.length);
    } catch (error) {
      await dropKey();
      throw error;
    }
    try {
      return await run(request, capability, items, payment, identity);
    } catch (error) {
      await payment.release().catch((releaseError: unknown) => logger.error({ err: releaseError }, 'batch payment could not be released; its holds lapse with their lease'));
      await dropKey().catch((dropError: unknown) => logger.error({ err: dropError }, 'batch idempotency key could not be freed; it frees itself when its lease ends'));
      const appError = request.signal?.aborted ? cancelledError(request.signal, undefined, 'batch') : toAppError(error);
      throw withPayment(appError, payment === freeBatch ? 'none' : 'released');
    }
  }

  async function runBatch(request: BatchRequest): Promise<BatchOutcome> {
    const capability = resolveCapability(catalog, request.tool);
    if (capability.jobResult) throw new AppError('INVALID_ARGUMENT', `${capability.tool} is not run in batches: fetch each job's result on its own`, { details: { fields: ['tool'] } });
    const items = itemsOf(request.items);
    const claim = await claimKey(dependencies, capability, request, { transport: `batch:${request.transport}`, args: { items } });
    if (claim.replayed) return { capability, output: claim.replayed.output, inline: [], receipt: claim.replayed.receipt, replayed: true };
    return runOnce(request, capability, items, claim.identity);
  }

  return (request) =>
    runBatch(request).catch((error: unknown) => {
      throw answeredError(error);
    });
}
