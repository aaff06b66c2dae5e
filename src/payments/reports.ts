import { AppError } from '../errors.js';
import { fromAtomicAmount, toAtomicAmount } from './amounts.js';
import { MS_PER_DAY, remainingCalls, type LedgerStore, type TokenState } from './store.js';

/** What GET /api/payments/:token shows of a token. */
export interface TokenStatus {
  serviceId: string;
  callsTotal: number;
  callsUsed: number;
  callsInProgress: number;
  callsRemaining: number;
  expiresAt: string | null;
  revoked: boolean;
  createdAt: string;
  source: 'operator' | 'x402';
}

/** One token as the operator sees it: a short prefix of its hash, never the token. */
export interface TokenSummary extends TokenStatus {
  id: string;
}

export interface RevenueDay {
  day: string;
  serviceId: string;
  calls: number;
  usd: string;
}

export interface RevenueReport {
  from: string;
  to: string;
  days: RevenueDay[];
  total: { calls: number; usd: string };
}

/** Enough of the SHA-256 to tell tokens apart in a list and to find one in the ledger; it reveals nothing. */
export const TOKEN_ID_LENGTH = 16;

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
const dayOf = (day: number) => new Date(day * MS_PER_DAY).toISOString().slice(0, 10);

/** A token's standing now: a revoked or expired token has no calls left, whatever it had. */
export function tokenStatusOf(token: TokenState, now: number): TokenStatus {
  return {
    serviceId: token.serviceId,
    callsTotal: token.callsTotal,
    callsUsed: token.callsUsed,
    callsInProgress: token.callsHeld,
    callsRemaining: token.revokedAt !== null || (token.expiresAt !== null && token.expiresAt <= now) ? 0 : remainingCalls(token),
    expiresAt: iso(token.expiresAt),
    revoked: token.revokedAt !== null,
    createdAt: iso(token.createdAt)!,
    source: token.source,
  };
}

export async function listTokens(store: LedgerStore, serviceId: string | undefined, now: number): Promise<TokenSummary[]> {
  return (await store.listTokens({ serviceId, now })).map((token) => ({ id: token.tokenHash.slice(0, TOKEN_ID_LENGTH), ...tokenStatusOf(token, now) }));
}

/** `2026-12-01` (that whole UTC day) or an ISO instant; `end` makes a bare day include itself. */
export function parseReportDate(text: string, end: boolean, field: string): number {
  const day = /^\d{4}-\d{2}-\d{2}$/.test(text);
  const ms = Date.parse(day ? `${text}T00:00:00Z` : text);
  if (Number.isNaN(ms)) throw new AppError('INVALID_ARGUMENT', `${field}: expected a date such as 2026-12-01, got "${text}"`, { details: { fields: [field] } });
  return day && end ? ms + MS_PER_DAY : ms;
}

/** Calls and USD per service and UTC day, from the charges the ledger recorded (token uses and x402 calls). */
export async function revenueReport(store: LedgerStore, range: { from?: string; to?: string }, now: number): Promise<RevenueReport> {
  const from = range.from ? parseReportDate(range.from, false, 'from') : 0;
  const to = range.to ? parseReportDate(range.to, true, 'to') : now + 1;
  if (to <= from) throw new AppError('INVALID_ARGUMENT', `to (${range.to}) is before from (${range.from})`, { details: { fields: ['from', 'to'] } });
  const days = new Map<string, { day: string; serviceId: string; calls: number; units: bigint }>();
  let calls = 0;
  let units = 0n;
  for (const total of await store.chargeTotals({ from, to })) {
    const key = `${total.day} ${total.serviceId}`;
    const entry = days.get(key) ?? { day: dayOf(total.day), serviceId: total.serviceId, calls: 0, units: 0n };
    const amount = BigInt(toAtomicAmount(total.usd)) * BigInt(total.calls);
    entry.calls += total.calls;
    entry.units += amount;
    days.set(key, entry);
    calls += total.calls;
    units += amount;
  }
  return {
    from: new Date(from).toISOString(),
    to: new Date(to).toISOString(),
    days: [...days.values()].map(({ units: dayUnits, ...entry }) => ({ ...entry, usd: fromAtomicAmount(dayUnits) })),
    total: { calls, usd: fromAtomicAmount(units) },
  };
}
