import { createHash } from 'node:crypto';
import { AppError, type ErrorBody } from '../errors.js';
import type { Capability } from '../catalog/capability.js';
import { paymentIdentifierOf, presentsX402, type CallRecordStore, type PaymentCredentials } from '../payments/index.js';
import type { ResultImage } from '../results/types.js';
import type { ToolOutput } from '../catalog/schemas.js';

/** A retry that finds the first call still running waits this long for its answer, then gets 409. */
const WAIT_FOR_FIRST_MS = 5_000;
const WAIT_STEP_MS = 100;
const MAX_KEY_LENGTH = 255;

export interface IdempotentIdentity {
  scope: string;
  key: string;
  fingerprint: string;
}

/** What a replay hands back: the first answer, with the inline image bytes the adapters embed. */
export interface RecordedResult {
  output: ToolOutput;
  receipt?: unknown;
  images: Array<Omit<ResultImage, 'bytes'> & { base64?: string }>;
  inline: string[];
}

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.keys(value).sort().map((key) => [key, canonical((value as Record<string, unknown>)[key])]));
  }
  return value;
}

/** A first answer whose payment is held (JOB_TIMEOUT): given again, so the retry pays nothing and learns where the job is. */
export interface RecordedHold {
  error: ErrorBody['error'];
}

export type RecordedAnswer = RecordedResult | RecordedHold;

export const isRecordedHold = (answer: RecordedAnswer): answer is RecordedHold => 'error' in answer;

/** The key a request names: its own Idempotency-Key, else the id of x402's payment-identifier extension. */
export function idempotencyKeyOf(idempotencyKey: string | undefined, payment: PaymentCredentials | undefined): string | undefined {
  return idempotencyKey ?? (payment && presentsX402(payment) ? paymentIdentifierOf(payment.x402) : undefined);
}

export function identityOf(key: string, scope: string, capability: Capability, transport: string, args: Record<string, unknown>): IdempotentIdentity {
  if (key.length > MAX_KEY_LENGTH || !/^[\x21-\x7e]+$/.test(key)) {
    throw new AppError('INVALID_ARGUMENT', `Idempotency-Key must be 1 to ${MAX_KEY_LENGTH} printable ASCII characters without spaces (a UUID is usual)`, {
      details: { fields: ['Idempotency-Key'] },
    });
  }
  const fingerprint = createHash('sha256').update(JSON.stringify([capability.serviceId, transport, canonical(args)])).digest('hex');
  return { scope, key, fingerprint };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Claims the key for this call, or returns the first call's recorded result (a recorded hold is thrown again, as
 * it was answered). The same key with other arguments is refused; a retry while the first call runs waits for it
 * a little, then is told to come back. A record lives `lifetimeMs` (IMAGESEG_RECORD_TTL_SECONDS).
 */
export async function claimIdentity(records: CallRecordStore, identity: IdempotentIdentity, leaseMs: number, lifetimeMs: number): Promise<RecordedResult | undefined> {
  const waitUntil = Date.now() + WAIT_FOR_FIRST_MS;
  for (;;) {
    const now = Date.now();
    const existing = await records.claimIdempotencyKey({ ...identity, now, leaseUntil: now + leaseMs, expiresAt: now + lifetimeMs });
    if (!existing) return undefined;
    if (existing.fingerprint !== identity.fingerprint) {
      throw new AppError('IDEMPOTENCY_KEY_REUSED', `Idempotency key "${identity.key}" was first used with other arguments (or another tool); use a new key for a new request`, {
        details: { idempotencyKey: identity.key },
      });
    }
    if (existing.state === 'done' && existing.answer) return recordedResult(JSON.parse(existing.answer) as RecordedAnswer);
    if (Date.now() >= waitUntil) {
      throw new AppError('IDEMPOTENCY_IN_PROGRESS', `A request with idempotency key "${identity.key}" is still running; retry to get its answer`, {
        retryable: true,
        retryAfterSeconds: 2,
        details: { idempotencyKey: identity.key },
      });
    }
    await sleep(WAIT_STEP_MS);
  }
}

function recordedResult(answer: RecordedAnswer): RecordedResult {
  if (!isRecordedHold(answer)) return answer;
  const { code, message, retryable, details } = answer.error;
  throw new AppError(code, message, { retryable, details: { ...details, replayed: true } });
}

export function recordAnswer(output: ToolOutput, receipt: unknown, images: ResultImage[], inline: ResultImage[]): RecordedResult {
  const inlineFields = new Set(inline.map((image) => image.field));
  return {
    output,
    ...(receipt ? { receipt } : {}),
    images: images.map(({ bytes, ...image }) => (inlineFields.has(image.field) ? { ...image, base64: bytes.toString('base64') } : image)),
    inline: [...inlineFields],
  };
}

export function replayedImages(answer: RecordedResult): { images: ResultImage[]; inline: ResultImage[] } {
  const images = answer.images.map(({ base64, ...image }) => ({ ...image, bytes: base64 ? Buffer.from(base64, 'base64') : Buffer.alloc(0) }));
  return { images, inline: images.filter((image) => answer.inline.includes(image.field)) };
}
