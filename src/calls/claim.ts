import type { Capability } from '../catalog/capability.js';
import type { Logger } from '../logger.js';
import type { CallRecordStore, PaymentCredentials, PaymentGate } from '../payments/index.js';
import { claimIdentity, idempotencyKeyOf, identityOf, type IdempotentIdentity, type RecordedResult } from './idempotency.js';

export interface ClaimDependencies {
  payments: PaymentGate;
  records: () => Promise<CallRecordStore>;
  /** How long a running call's claim holds before another process may take over. */
  leaseMs: number;
  /** How long a record answers retries (IMAGESEG_RECORD_TTL_SECONDS). */
  recordTtlMs: number;
  logger: Logger;
}

export interface Claim {
  /** Who pays (`token:<hash>`, `x402:<verified address>`, `anonymous`). */
  payer: string;
  /** This request's idempotency key, claimed for it; absent when it named none. */
  identity?: IdempotentIdentity;
  /** The first answer to the key, to give again: nothing runs, nothing is charged. */
  replayed?: RecordedResult;
}

/** The payer of a call whose payer nobody asks about. */
const ANONYMOUS = 'anonymous';

/** Who pays matters to idempotency keys and jobs only; a job result is opened with a payload never shown before. */
const needsPayer = (capability: Capability, key: string | undefined) => key !== undefined || capability.async !== 'never' || capability.jobResult !== undefined;

/**
 * Who pays, and the request's idempotency key claimed for that payer (or the first answer to it). `scope` tells apart
 * what the same key may name: a call over one transport, or a batch.
 */
export async function claimKey(
  dependencies: ClaimDependencies,
  capability: Capability,
  request: { idempotencyKey?: string; payment?: PaymentCredentials },
  scope: { transport: string; args: Record<string, unknown> },
): Promise<Claim> {
  const key = idempotencyKeyOf(request.idempotencyKey, request.payment);
  const payer = needsPayer(capability, key) ? await dependencies.payments.identify(capability, request.payment ?? {}, { fresh: capability.jobResult !== undefined }) : ANONYMOUS;
  if (key === undefined) return { payer };
  const identity = identityOf(key, payer, capability, scope.transport, scope.args);
  const replayed = await claimIdentity(await dependencies.records(), identity, dependencies.leaseMs, dependencies.recordTtlMs);
  if (replayed) dependencies.logger.info({ tool: capability.tool, idempotencyKey: key }, 'idempotent retry answered with the first answer');
  return { payer, identity, ...(replayed ? { replayed } : {}) };
}
