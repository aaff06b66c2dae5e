import type { z } from 'zod';
import { AppError, toAppError } from './errors.js';
import type { Catalog } from './catalog/lookup.js';
import type { Capability } from './catalog/capability.js';
import { inputSchemaOf, type ToolOutput } from './catalog/schemas.js';
import { findResultImages } from './images/result-fields.js';
import type { PaymentCredentials, PaymentGate } from './payments/index.js';
import type { Progress, ProviderResult, ResultImage } from './providers/provider.js';
import type { ProviderRegistry } from './providers/index.js';
import { loadImage, type ImageLoadOptions, type LoadedImage } from './images/load.js';
import type { ResultStore } from './images/result-store.js';
import { checkDeliveryOptions, deliverResults, type Transport } from './images/deliver.js';
import { splitOutputOptions } from './images/output-options.js';
import type { Logger } from './logger.js';
import type { Metrics } from './metrics.js';

export interface CallRequest {
  /** serviceId, legacy id, tool name or Action. */
  tool: string;
  arguments: unknown;
  /** Decides the default delivery: inline images over MCP, links over REST and the CLI. */
  transport: Transport;
  payment?: PaymentCredentials;
  onProgress?: (progress: Progress) => void;
  signal?: AbortSignal;
}

export interface CallOutcome {
  capability: Capability;
  output: ToolOutput;
  /** Result images whose bytes are at hand. */
  images: ResultImage[];
  /** The ones the adapter should embed (MCP image content). */
  inline: ResultImage[];
  receipt?: unknown;
}

export interface CallDependencies {
  catalog: Catalog;
  providers: ProviderRegistry;
  payments: PaymentGate;
  results: ResultStore;
  images: ImageLoadOptions;
  logger: Logger;
  metrics?: Metrics;
}

export type CallPipeline = (request: CallRequest) => Promise<CallOutcome>;

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

async function loadImages(capability: Capability, params: Record<string, unknown>, options: ImageLoadOptions) {
  const loaded: Record<string, LoadedImage> = {};
  const entries = Object.entries(capability.images).filter(([field]) => typeof params[field] === 'string');
  await Promise.all(
    entries.map(async ([field, limits]) => {
      loaded[field] = await loadImage(field, params[field] as string, limits!, capability.action, options);
    }),
  );
  return loaded;
}

function toOutput(capability: Capability, result: ProviderResult, data: Record<string, unknown>, notes: string[]): ToolOutput {
  const imageCount = findResultImages(data).length;
  const summary = imageCount > 0 ? `${capability.title}: ${imageCount} result image(s)` : `${capability.title}: done`;
  return {
    code: '200',
    content: [summary, ...notes].join('; '),
    data: { Action: capability.action, ...data },
    message: 'success',
    requestId: result.requestId,
  };
}

/**
 * THE call pipeline, shared by MCP and REST: resolve, validate, reserve payment, load and check images,
 * run the provider, commit the charge. Any failure after the reservation releases it.
 */
export function createCallPipeline(dependencies: CallDependencies): CallPipeline {
  const { catalog, providers, payments, results, logger } = dependencies;
  const pipeline: CallPipeline = async (request) => {
    const startedAt = performance.now();
    const capability = resolveCapability(catalog, request.tool);
    const { params, options } = splitOutputOptions(validateArguments(capability, request.arguments));
    await checkDeliveryOptions(options, dependencies.images);
    const provider = providers.select(capability);
    const reservation = await payments.reserve(capability, request.payment ?? {});
    try {
      const images = await loadImages(capability, params, dependencies.images);
      const result = await provider.run({
        capability,
        params,
        images,
        results,
        onProgress: request.onProgress,
        signal: request.signal,
      });
      const delivered = await deliverResults(result, options, {
        transport: request.transport,
        results,
        fetchOptions: dependencies.images,
        fileRoots: dependencies.images.fileRoots,
        inputFile: Object.keys(capability.images).map((field) => images[field]?.sourcePath).find(Boolean),
        serviceId: capability.serviceId,
      });
      const { receipt } = await reservation.commit();
      logger.info({ tool: capability.tool, provider: provider.name, ms: Math.round(performance.now() - startedAt) }, 'call succeeded');
      const output = toOutput(capability, result, delivered.data, delivered.notes);
      return { capability, output, images: delivered.images, inline: delivered.inline, receipt };
    } catch (error) {
      await reservation.release().catch((releaseError: unknown) => logger.error({ tool: capability.tool, err: releaseError }, 'payment reservation could not be released'));
      const appError = toAppError(error);
      // The cause keeps what the client's message leaves out (e.g. Alibaba's signature diagnostics).
      logger.warn({ tool: capability.tool, provider: provider.name, code: appError.code, err: appError.message, ...(appError.cause instanceof Error ? { cause: appError.cause.message } : {}) }, 'call failed');
      throw appError;
    }
  };
  return async (request) => {
    const startedAt = performance.now();
    const record = (outcome: string) =>
      dependencies.metrics?.recordCall(
        { tool: catalog.find(request.tool)?.tool ?? 'unknown', provider: providers.active, outcome },
        (performance.now() - startedAt) / 1000,
      );
    try {
      const outcome = await pipeline(request);
      record('ok');
      return outcome;
    } catch (error) {
      // A charge is committed only as the last step of a successful call, so every failure says nothing was charged.
      const appError = notCharged(toAppError(error));
      record(appError.code);
      throw appError;
    }
  };
}

function notCharged(error: AppError): AppError {
  if (error.options.details?.charged === false) return error;
  return new AppError(error.code, error.message, { ...error.options, details: { ...error.options.details, charged: false } });
}
