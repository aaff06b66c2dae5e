import { createHash } from 'node:crypto';
import { AppError } from '../errors.js';
import type { Capability } from '../catalog/capability.js';
import type { CallRecordStore } from '../payments/index.js';
import type { ResultImage } from '../providers/provider.js';
import type { ToolOutput } from '../catalog/schemas.js';

/** A first answer is replayed for a day, as payment APIs do. */
const RECORD_LIFETIME_MS = 24 * 3_600_000;
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
export interface RecordedAnswer {
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
 * Claims the key for this call, or returns the first call's recorded answer. The same key with other arguments
 * is refused; a retry while the first call runs waits for it a little, then is told to come back.
 */
export async function claimIdentity(records: CallRecordStore, identity: IdempotentIdentity, leaseMs: number): Promise<RecordedAnswer | undefined> {
  const waitUntil = Date.now() + WAIT_FOR_FIRST_MS;
  for (;;) {
    const now = Date.now();
    const existing = await records.claimIdempotencyKey({ ...identity, now, leaseUntil: now + leaseMs, expiresAt: now + RECORD_LIFETIME_MS });
    if (!existing) return undefined;
    if (existing.fingerprint !== identity.fingerprint) {
      throw new AppError('IDEMPOTENCY_KEY_REUSED', `Idempotency key "${identity.key}" was first used with other arguments (or another tool); use a new key for a new request`, {
        details: { idempotencyKey: identity.key },
      });
    }
    if (existing.state === 'done' && existing.answer) return JSON.parse(existing.answer) as RecordedAnswer;
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

export function recordAnswer(output: ToolOutput, receipt: unknown, images: ResultImage[], inline: ResultImage[]): RecordedAnswer {
  const inlineFields = new Set(inline.map((image) => image.field));
  return {
    output,
    ...(receipt ? { receipt } : {}),
    images: images.map(({ bytes, ...image }) => (inlineFields.has(image.field) ? { ...image, base64: bytes.toString('base64') } : image)),
    inline: [...inlineFields],
  };
}

export function replayedImages(answer: RecordedAnswer): { images: ResultImage[]; inline: ResultImage[] } {
  const images = answer.images.map(({ base64, ...image }) => ({ ...image, bytes: base64 ? Buffer.from(base64, 'base64') : Buffer.alloc(0) }));
  return { images, inline: images.filter((image) => answer.inline.includes(image.field)) };
}
