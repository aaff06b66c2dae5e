import type { z } from 'zod';
import { AppError, operatorMessage, toAppError, withPayment } from './errors.js';
import type { Catalog } from './catalog/lookup.js';
import { imageFieldOf, type Capability } from './catalog/capability.js';
import { inputSchemaOf, type ToolOutput } from './catalog/schemas.js';
import { findResultImages } from './images/result-fields.js';
import type { CallRecordStore, PaymentCredentials, PaymentGate } from './payments/index.js';
import type { Progress, Provider, ProviderResult, ResultImage } from './providers/provider.js';
import { fitToLimits, sourceLimits, type FittedImage } from './images/fit.js';
import type { ProviderRegistry } from './providers/index.js';
import { loadImage, type ImageLoadOptions, type LoadedImage } from './images/load.js';
import type { ResultStore } from './images/result-store.js';
import { checkDeliveryOptions, deliverResults, type CallerKind } from './images/deliver.js';
import { splitOutputOptions } from './images/output-options.js';
import type { Logger } from './logger.js';
import type { Metrics } from './metrics.js';
import { claimIdentity, idempotencyKeyOf, identityOf, replayedImages, type RecordedResult } from './calls/idempotency.js';
import { openSettlement } from './calls/settlement.js';
import { observeProviderRun } from './calls/provider-metrics.js';

export interface CallRequest {
  /** serviceId, legacy id, tool name or Action. */
  tool: string;
  arguments: unknown;
  /** Decides the default delivery: inline images over MCP, links over REST and the CLI. */
  transport: CallerKind;
  payment?: PaymentCredentials;
  onProgress?: (progress: Progress) => void;
  /** Aborted when the caller cancels or goes away: the call stops and nothing is charged. */
  signal?: AbortSignal;
  /** REST `Idempotency-Key`, MCP `_meta["idempotency-key"]`: one key (per payer) runs and pays once. */
  idempotencyKey?: string;
}

export interface CallOutcome {
  capability: Capability;
  output: ToolOutput;
  /** Result images whose bytes are at hand. */
  images: ResultImage[];
  /** The ones the adapter should embed (MCP image content). */
  inline: ResultImage[];
  receipt?: unknown;
  /** The first answer to this idempotency key, given again: no provider call, no charge. */
  replayed?: boolean;
}

export interface CallDependencies {
  catalog: Catalog;
  providers: ProviderRegistry;
  payments: PaymentGate;
  /** Idempotency records and asynchronous jobs (the ledger's database). */
  records: () => Promise<CallRecordStore>;
  /** Aborted when the server shuts down: calls still running end uncharged. */
  shutdown?: AbortSignal;
  /** How long a running call's idempotency claim and job record hold before another process may take over. */
  leaseMs: number;
  /** How long idempotency records answer retries (IMAGESEG_RECORD_TTL_SECONDS). */
  recordTtlMs: number;
  results: ResultStore;
  /** `sourceMaxBytes`: inputs up to this size are taken and re-encoded to the Action's limits (0: the Action's own). */
  images: ImageLoadOptions & { sourceMaxBytes?: number };
  /** The largest inline MCP image, as base64 (IMAGESEG_INLINE_MAX_BYTES). */
  inlineMaxBytes: number;
  logger: Logger;
  metrics?: Metrics;
}

export type CallPipeline = (request: CallRequest) => Promise<CallOutcome>;

/** The payer of a call whose payer nobody asks about. */
const ANONYMOUS_PAYER = 'anonymous';

function describeIssues(error: z.ZodError): { message: string; fields: string[] } {
  const fields = [...new Set(error.issues.map((issue) => issue.path.join('.') || '(arguments)'))];
  const parts = error.issues.map((issue) => {
    if (issue.code === 'unrecognized_keys') return `unknown parameter(s) ${issue.keys.join(', ')} (Alibaba names are case-sensitive)`;
    return `${issue.path.join('.') || 'arguments'}: ${issue.message}`;
  });
  return { message: `Invalid arguments: ${parts.join('; ')}`, fields };
}

function resolveCapability(catalog: Catalog, tool: string): Capability {
  const capability = catalog.find(tool);
  if (!capability) {
    throw new AppError('NOT_FOUND', `No capability named "${tool}"; see /api/catalog/search or tools/list`, { details: { tool } });
  }
  return capability;
}

function validateArguments(capability: Capability, args: unknown): Record<string, unknown> {
  const parsed = inputSchemaOf(capability).safeParse(args ?? {});
  if (!parsed.success) {
    const { message, fields } = describeIssues(parsed.error);
    throw new AppError('INVALID_ARGUMENT', message, { details: { fields, action: capability.action } });
  }
  return parsed.data as Record<string, unknown>;
}

/**
 * Loads every image input under the limits we can bring down to, then fits each one to what the provider takes
 * (the Action's limits for Alibaba, the model's for the embedded provider). The primary one, when fitted, is remembered so
 * its result is scaled back to the caller's size.
 */
async function loadImages(capability: Capability, params: Record<string, unknown>, provider: Provider, options: ImageLoadOptions & { sourceMaxBytes?: number }) {
  const loaded: Record<string, LoadedImage> = {};
  const fittings: FittedImage[] = [];
  const entries = Object.entries(capability.images).filter(([field]) => typeof params[field] === 'string');
  await Promise.all(
    entries.map(async ([field, documented]) => {
      const limits = provider.imageLimits?.(capability, field) ?? documented!;
      const image = await loadImage(field, params[field] as string, sourceLimits(limits, options.sourceMaxBytes ?? 0), capability.action, {
        ...options,
        passesThrough: (url) => provider.passesThrough?.(url) ?? false,
        decodedByProvider: provider.decodesImages === true,
      });
      const fitted = await fitToLimits(field, image, limits, capability.action);
      if (fitted) fittings.push(fitted);
      loaded[field] = fitted ? { ...fitted.sent, ...pick(image) } : image;
    }),
  );
  const primary = imageFieldOf(capability, 'primary');
  return { loaded, fitted: fittings.find((fitted) => fitted.field === primary) };
}

/** A fitted copy keeps the file it came from (results go beside it) but not its URL: the provider must get the copy. */
function pick(image: LoadedImage): Partial<LoadedImage> {
  return image.sourcePath ? { sourcePath: image.sourcePath } : {};
}

function toOutput(capability: Capability, result: ProviderResult, data: Record<string, unknown>, notes: string[], servedBy: string): ToolOutput {
  const imageCount = findResultImages(data, capability.resultShape).length;
  const summary = imageCount > 0 ? `${capability.title}: ${imageCount} result image(s)` : stillProcessing(capability, data) ?? `${capability.title}: done`;
  return {
    code: '200',
    content: [summary, ...notes].join('; '),
    data: { Action: capability.action, ...data, Provider: servedBy },
    message: 'success',
    requestId: result.requestId,
  };
}

/** A job result that is not final yet says so, and what to do, instead of "done". */
function stillProcessing(capability: Capability, data: Record<string, unknown>): string | undefined {
  const role = capability.jobResult;
  if (!role) return undefined;
  const status = String(data[role.statusField] ?? '');
  if (role.succeeded.includes(status) || role.failed.includes(status)) return undefined;
  return `still processing (Status ${status || 'unknown'}): call ${capability.tool} again with the same ${role.jobIdParameter} in a few seconds`;
}

function cancelledError(signal: AbortSignal, shutdown?: AbortSignal): AppError {
  const why = shutdown?.aborted ? 'the server is shutting down' : 'the caller cancelled it or went away';
  return new AppError('INTERNAL', `The call was stopped: ${why}; nothing was charged`, { retryable: true, details: { cancelled: true }, cause: signal.reason });
}

function replay(capability: Capability, answer: RecordedResult): CallOutcome {
  return { capability, output: answer.output, ...replayedImages(answer), receipt: answer.receipt, replayed: true };
}

/** Who pays matters to idempotency keys and jobs only; a job result is opened with a payload never shown before. */
const needsPayer = (capability: Capability, key: string | undefined) => key !== undefined || capability.async !== 'never' || capability.jobResult !== undefined;

/**
 * THE call pipeline, shared by MCP and REST, top to bottom: resolve and validate; who pays, and the idempotency
 * key; reserve; load and check images; run the provider; deliver; commit. The settlement says what became of the
 * money on every answer: released on any failure before the commit, held for a job that outlived its deadline.
 */
export function createCallPipeline(dependencies: CallDependencies): CallPipeline {
  const { catalog, providers, payments, results, logger, leaseMs } = dependencies;

  async function pipeline(request: CallRequest, capability: Capability): Promise<CallOutcome> {
    const args = validateArguments(capability, request.arguments);
    const { params, options } = splitOutputOptions(args);
    await checkDeliveryOptions(options, dependencies.images);
    const signal = dependencies.shutdown && request.signal ? AbortSignal.any([request.signal, dependencies.shutdown]) : (request.signal ?? dependencies.shutdown ?? new AbortController().signal);
    if (signal.aborted) throw cancelledError(signal, dependencies.shutdown);
    const key = idempotencyKeyOf(request.idempotencyKey, request.payment);
    const payment = request.payment ?? {};
    const payer = needsPayer(capability, key) ? await payments.identify(capability, payment, { fresh: capability.jobResult !== undefined }) : ANONYMOUS_PAYER;
    const identity = key === undefined ? undefined : identityOf(key, payer, capability, request.transport, args);
    if (identity) {
      const recorded = await claimIdentity(await dependencies.records(), identity, leaseMs, dependencies.recordTtlMs);
      if (recorded) {
        logger.info({ tool: capability.tool, idempotencyKey: key }, 'idempotent retry answered with the first answer');
        return replay(capability, recorded);
      }
    }

    const startedAt = performance.now();
    const provider = providers.select(capability);
    const settlement = await openSettlement(dependencies, capability, params, payment, payer, identity);
    let observer: ReturnType<typeof observeProviderRun> | undefined;
    try {
      const fetchOptions = { ...dependencies.images, signal };
      const { loaded: images, fitted } = await loadImages(capability, params, provider, fetchOptions);
      signal.throwIfAborted();
      observer = observeProviderRun(dependencies.metrics, provider.name, capability.action, request.onProgress);
      const { onJobSubmitted } = settlement;
      const result = await provider.run({
        capability,
        params,
        images,
        results,
        onProgress: observer.onProgress,
        signal,
        ...(onJobSubmitted ? { onJobSubmitted: (jobId: string) => (observer!.onJobSubmitted(), onJobSubmitted(jobId)) } : {}),
      });
      observer.finish('ok');
      const delivered = await deliverResults(result, options, {
        transport: request.transport,
        results,
        fetchOptions,
        fileRoots: dependencies.images.fileRoots,
        inputFile: Object.keys(capability.images).map((field) => images[field]?.sourcePath).find(Boolean),
        serviceId: capability.serviceId,
        resultShape: capability.resultShape,
        inlineMaxBytes: dependencies.inlineMaxBytes,
        ...(fitted ? { fitted } : {}),
      });
      // The caller must still be there to be handed the result: past the commit the call is paid for.
      signal.throwIfAborted();
      const output = toOutput(capability, result, delivered.data, delivered.notes, result.provider ?? provider.name);
      const paid = await settlement.succeed({ output, images: delivered.images, inline: delivered.inline, data: result.data });
      logger.info({ tool: capability.tool, provider: result.provider ?? provider.name, payment: paid.output.payment, ms: Math.round(performance.now() - startedAt) }, 'call succeeded');
      return { capability, output: paid.output, images: delivered.images, inline: delivered.inline, receipt: paid.receipt };
    } catch (error) {
      const appError = await settlement.fail(signal.aborted ? cancelledError(signal, dependencies.shutdown) : toAppError(error));
      observer?.finish(appError.code);
      // The cause keeps what the client's message leaves out (e.g. Alibaba's signature diagnostics).
      logger.warn({ tool: capability.tool, provider: provider.name, code: appError.code, payment: appError.options.details?.payment, err: operatorMessage(appError), ...(appError.cause instanceof Error ? { cause: appError.cause.message } : {}) }, 'call failed');
      throw appError;
    }
  }

  return async (request) => {
    const startedAt = performance.now();
    let tool = 'unknown';
    try {
      const capability = resolveCapability(catalog, request.tool);
      tool = capability.tool;
      const outcome = await pipeline(request, capability);
      dependencies.metrics?.recordCall({ tool, provider: providers.active, outcome: 'ok' }, (performance.now() - startedAt) / 1000);
      return outcome;
    } catch (error) {
      // Whatever failed before a reservation reserved nothing; the settlement said what became of the rest.
      const appError = toAppError(error);
      const answered = appError.options.details?.payment === undefined ? withPayment(appError, 'none') : appError;
      dependencies.metrics?.recordCall({ tool, provider: providers.active, outcome: answered.code }, (performance.now() - startedAt) / 1000);
      throw answered;
    }
  };
}
