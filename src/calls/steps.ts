import type { z } from 'zod';
import { AppError, toAppError, withPayment } from '../errors.js';
import type { Catalog } from '../catalog/lookup.js';
import type { Capability } from '../catalog/capability.js';
import { inputSchemaOf } from '../catalog/schemas.js';

// The steps every call and every batch take the same way.

export function resolveCapability(catalog: Catalog, tool: string): Capability {
  const capability = catalog.find(tool);
  if (!capability) {
    throw new AppError('NOT_FOUND', `No capability named "${tool}"; see /api/catalog/search or tools/list`, { details: { tool } });
  }
  return capability;
}

export function validateArguments(capability: Capability, args: unknown): Record<string, unknown> {
  const parsed = inputSchemaOf(capability).safeParse(args ?? {});
  if (!parsed.success) {
    const { message, fields } = describeIssues(parsed.error);
    throw new AppError('INVALID_ARGUMENT', message, { details: { fields, action: capability.action } });
  }
  return parsed.data;
}

function describeIssues(error: z.ZodError): { message: string; fields: string[] } {
  const fields = [...new Set(error.issues.map((issue) => issue.path.join('.') || '(arguments)'))];
  const parts = error.issues.map((issue) => {
    if (issue.code === 'unrecognized_keys') return `unknown parameter(s) ${issue.keys.join(', ')} (Alibaba names are case-sensitive)`;
    return `${issue.path.join('.') || 'arguments'}: ${issue.message}`;
  });
  return { message: `Invalid arguments: ${parts.join('; ')}`, fields };
}

/** The caller's signal and the server's shutdown, as one: either stops the call. */
export function callSignal(caller: AbortSignal | undefined, shutdown: AbortSignal | undefined): AbortSignal {
  if (caller && shutdown) return AbortSignal.any([caller, shutdown]);
  return caller ?? shutdown ?? new AbortController().signal;
}

export function cancelledError(signal: AbortSignal, shutdown?: AbortSignal, what = 'call'): AppError {
  const why = shutdown?.aborted ? 'the server is shutting down' : 'the caller cancelled it or went away';
  return new AppError('INTERNAL', `The ${what} was stopped: ${why}; nothing was charged`, { retryable: true, details: { cancelled: true }, cause: signal.reason });
}

/** The error a caller gets: what became of its money said, `none` where nothing was ever reserved. */
export function answeredError(error: unknown): AppError {
  const appError = toAppError(error);
  return appError.options.details?.payment === undefined ? withPayment(appError, 'none') : appError;
}
