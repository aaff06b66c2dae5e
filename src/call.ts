import { imageFieldOf, type Capability } from './catalog/capability.js';
import type { Catalog } from './catalog/lookup.js';
import type { ToolOutput } from './catalog/schemas.js';
import { operatorMessage, toAppError } from './errors.js';
import type { ImageLoadOptions } from './images/load.js';
import type { Logger } from './logger.js';
import type { Metrics } from './metrics.js';
import type { PaymentCredentials } from './payments/index.js';
import type { ProviderRegistry } from './providers/index.js';
import type { Progress, Provider } from './providers/provider.js';
import { checkDeliveryOptions, deliverResults, type CallerKind } from './results/deliver.js';
import { splitOutputOptions } from './results/output-options.js';
import type { ResultStore, StoredResult } from './results/result-store.js';
import type { ResultImage } from './results/types.js';
import { saveInputPreview } from './results/input-preview.js';
import { claimKey, type ClaimDependencies } from './calls/claim.js';
import { replayedImages } from './calls/idempotency.js';
import { loadImages } from './calls/load-images.js';
import { observeProviderRun } from './calls/provider-metrics.js';
import { openSettlement, type CallSettlement } from './calls/settlement.js';
import { answeredError, callSignal, cancelledError, resolveCapability, validateArguments } from './calls/steps.js';
import { toOutput } from './calls/tool-output.js';

/**
 * THE call pipeline, shared by MCP, REST and the CLI, step by step: resolve the capability and validate its
 * arguments (once each); work out who pays and claim the idempotency key (a retry gets the first answer); open the
 * settlement (reserve); load and check the images; run the provider; deliver the results; settle (commit). Every
 * failure takes one path: the settlement releases the payment (or holds it for a job that outlived its deadline)
 * and the error says which.
 */
export function createCallPipeline(dependencies: CallDependencies): CallPipeline {
  const { catalog, providers, metrics } = dependencies;

  async function call(request: CallRequest, capability: Capability): Promise<CallOutcome> {
    const args = validateArguments(capability, request.arguments);
    const { params, options } = splitOutputOptions(args);
    await checkDeliveryOptions(options, dependencies.images);
    const signal = callSignal(request.signal, dependencies.shutdown);
    if (signal.aborted) throw cancelledError(signal, dependencies.shutdown);
    const claim = await claimKey(dependencies, capability, request, { transport: request.transport, args });
    if (claim.replayed) return { capability, output: claim.replayed.output, ...replayedImages(claim.replayed), receipt: claim.replayed.receipt, replayed: true };
    const provider = providers.select(capability);
    const settlement = await openSettlement(dependencies, capability, params, request.payment ?? {}, claim.payer, claim.identity);
    try {
      return await runPaid(request, capability, { provider, params, options, signal, settlement });
    } catch (error) {
      const failed = await settlement.fail(signal.aborted ? cancelledError(signal, dependencies.shutdown) : toAppError(error));
      // The cause keeps what the client's message leaves out (e.g. Alibaba's signature diagnostics).
      const cause = failed.cause instanceof Error ? { cause: failed.cause.message } : {};
      dependencies.logger.warn({ tool: capability.tool, provider: provider.name, code: failed.code, payment: failed.options.details?.payment, err: operatorMessage(failed), ...cause }, 'call failed');
      throw failed;
    }
  }

  async function runPaid(request: CallRequest, capability: Capability, call: PaidCall): Promise<CallOutcome> {
    const { provider, params, options, signal, settlement } = call;
    const startedAt = performance.now();
    const fetchOptions = { ...dependencies.images, signal };
    const { loaded: images, fitted } = await loadImages(capability, params, provider, fetchOptions);
    signal.throwIfAborted();

    const observer = observeProviderRun(metrics, provider.name, capability.action, request.onProgress);
    const { onJobSubmitted } = settlement;
    const result = await provider
      .run({
        capability,
        params,
        images,
        results: dependencies.results,
        onProgress: observer.onProgress,
        signal,
        ...(onJobSubmitted ? { onJobSubmitted: (jobId: string) => (observer.onJobSubmitted(), onJobSubmitted(jobId)) } : {}),
      })
      .then(
        (answered) => (observer.finish('ok'), answered),
        (error: unknown) => {
          observer.finish(signal.aborted ? cancelledError(signal).code : toAppError(error).code);
          throw error;
        },
      );

    // Beside the delivery, not after it: the view's "before" image costs the call no extra wait.
    const primary = images[imageFieldOf(capability, 'primary') ?? ''];
    const inputPreview = request.inputPreview && primary ? saveInputPreview(primary, dependencies.results).catch(() => undefined) : undefined;
    const delivered = await deliverResults(result, options, {
      transport: request.transport,
      results: dependencies.results,
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
    const servedBy = result.provider ?? provider.name;
    const paid = await settlement.succeed({ output: toOutput(capability, result, delivered.data, delivered.notes, servedBy), images: delivered.images, inline: delivered.inline, data: result.data });
    dependencies.logger.info({ tool: capability.tool, provider: servedBy, payment: paid.output.payment, ms: Math.round(performance.now() - startedAt) }, 'call succeeded');
    const preview = await inputPreview;
    return { capability, output: paid.output, images: delivered.images, inline: delivered.inline, receipt: paid.receipt, ...(preview ? { inputPreview: preview } : {}) };
  }

  return async (request) => {
    const startedAt = performance.now();
    let tool = 'unknown';
    const record = (outcome: string) => metrics?.recordCall({ tool, provider: providers.active, outcome }, (performance.now() - startedAt) / 1000);
    try {
      const capability = resolveCapability(catalog, request.tool);
      tool = capability.tool;
      const outcome = await call(request, capability);
      record('ok');
      return outcome;
    } catch (error) {
      const answered = answeredError(error);
      record(answered.code);
      throw answered;
    }
  };
}

/** What a call whose payment is open carries through its steps. */
interface PaidCall {
  provider: Provider;
  params: Record<string, unknown>;
  options: ReturnType<typeof splitOutputOptions>['options'];
  signal: AbortSignal;
  settlement: CallSettlement;
}

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
  /** Keep a small copy of the primary input as a stored result (`CallOutcome.inputPreview`), for the MCP App view. */
  inputPreview?: boolean;
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
  /** The primary input, scaled down and stored like a result, when the request asked for it (and it could be made). */
  inputPreview?: StoredResult;
}

/** Who pays, idempotency records and jobs (`ClaimDependencies`: the ledger's database) and what a call runs on. */
export interface CallDependencies extends ClaimDependencies {
  catalog: Catalog;
  providers: ProviderRegistry;
  /** Aborted when the server shuts down: calls still running end uncharged. */
  shutdown?: AbortSignal;
  results: ResultStore;
  /** `sourceMaxBytes`: inputs up to this size are taken and re-encoded to the Action's limits (0: the Action's own). */
  images: ImageLoadOptions & { sourceMaxBytes?: number };
  /** The largest inline MCP image, as base64 (IMAGESEG_INLINE_MAX_BYTES). */
  inlineMaxBytes: number;
  logger: Logger;
  metrics?: Metrics;
}

export type CallPipeline = (request: CallRequest) => Promise<CallOutcome>;
