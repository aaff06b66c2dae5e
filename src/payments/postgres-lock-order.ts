import type pg from 'pg';
import type { NonceKey } from './store.js';

/**
 * The order in which a PostgreSQL group runs its writes, so that groups running side by side, in this process or
 * another, never deadlock: every write says which rows it may lock (its key), and each group runs its writes sorted
 * by key (in the order they were asked for within one key). Groups that take their locks in one global order can
 * wait for each other, never on each other. Each kind of row belongs to one key: a token's row and every
 * reservation of it to `token:<hash>`; the writes that name a reservation only by its id are sorted under its
 * token's key.
 */
export type LockKey = string | { reservationId: string };

export const tokenKey = (tokenHash: string) => `token:${tokenHash}`;
export const nonceKey = (key: NonceKey) => `nonce:${key.network}\n${key.asset}\n${key.payer}\n${key.nonce}`;
export const idempotencyKey = (scope: string, key: string) => `idempotency:${scope}\n${key}`;
export const jobKey = (jobId: string) => `job:${jobId}`;

/** The indexes of `keys` in the order their writes are to run. */
export async function lockOrder(client: pg.PoolClient, keys: readonly LockKey[]): Promise<number[]> {
  const reservations = keys.flatMap((key) => (typeof key === 'string' ? [] : [key.reservationId]));
  const tokenOf = new Map<string, string>();
  if (reservations.length > 0) {
    // A reservation's token never changes, so this read needs no lock.
    const { rows } = await client.query<{ id: string; token_hash: string }>({
      name: 'ledger-reservation-tokens',
      text: 'SELECT id, token_hash FROM reservations WHERE id = ANY($1::text[])',
      values: [reservations],
    });
    for (const row of rows) tokenOf.set(row.id, row.token_hash);
  }
  // A reservation that does not exist locks nothing: any key will do.
  const sortKeys = keys.map((key) => (typeof key === 'string' ? key : tokenOf.has(key.reservationId) ? tokenKey(tokenOf.get(key.reservationId)!) : `reservation:${key.reservationId}`));
  return sortKeys.map((_key, index) => index).sort((a, b) => (sortKeys[a] < sortKeys[b] ? -1 : sortKeys[a] > sortKeys[b] ? 1 : a - b));
}
