import { createHash, randomBytes } from 'node:crypto';

/** Payment tokens read as what they are; the rest is 256 random bits. */
const TOKEN_PREFIX = 'imgseg_';
const TOKEN_PATTERN = /^imgseg_[A-Za-z0-9_-]{43}$/;

/** A new payment token: 256-bit random, shown once to its buyer; the ledger keeps only its hash. */
export function generateToken(): string {
  return `${TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
}

/** SHA-256 is enough: the token is 256 random bits, so there is nothing to brute-force a slow hash against. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token.trim()).digest('hex');
}

/** A token bought with x402 (or given back as a batch's credit) lasts this long. */
export const BOUGHT_TOKEN_LIFETIME_MS = 30 * 86_400_000;

/** A new token: the secret for its holder, the ledger row (hash only) to create. */
export function newToken(serviceId: string, calls: number, expiresAt: number | null, source: 'operator' | 'x402') {
  const paymentToken = generateToken();
  return { paymentToken, token: { tokenHash: hashToken(paymentToken), serviceId, calls, expiresAt, source } };
}

export const looksLikeToken = (text: string) => TOKEN_PATTERN.test(text.trim());

const DURATION = /^(\d+(?:\.\d+)?)\s*(s|m|h|d|w)$/i;
const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** `--expires`: an ISO date (2026-01-31, 2026-01-31T12:00Z) or a duration from now (90m, 12h, 30d, 2w). */
export function parseExpiry(text: string, now: number): number {
  const duration = DURATION.exec(text.trim());
  if (duration) return now + Math.round(Number(duration[1]) * UNIT_MS[duration[2].toLowerCase()]);
  const date = Date.parse(text);
  if (Number.isNaN(date)) throw new Error(`expiry "${text}" is neither an ISO date (2026-01-31) nor a duration (90m, 12h, 30d)`);
  if (date <= now) throw new Error(`expiry ${new Date(date).toISOString()} is in the past`);
  return date;
}
