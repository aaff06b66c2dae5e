import type pg from 'pg';
import { MS_PER_DAY, standingRefusal, type LedgerStore, type NewToken, type TokenHold, type TokenRefusal, type TokenState } from './store.js';
import { ledgerSchema } from './ledger-schema.js';
import { postgresCallRecords } from './postgres-call-records.js';
import { createPostgresGroupCommit } from './postgres-group-commit.js';
import { nonceKey, tokenKey, type LockKey } from './postgres-lock-order.js';
import { createTables, openPool } from '../postgres-pool.js';
import { ADVISORY_LOCKS } from '../advisory-locks.js';
import type { Logger } from '../logger.js';

const SCHEMA = ledgerSchema('postgres');

interface TokenRow {
  service_id: string;
  calls_total: number;
  calls_used: number;
  expires_at: string | null;
  revoked_at: string | null;
  created_at: string;
  source: 'operator' | 'x402';
}

const toMs = (value: string | null) => (value === null ? null : Number(value));

const toState = (row: TokenRow, held: number): TokenState => ({
  serviceId: row.service_id,
  callsTotal: row.calls_total,
  callsUsed: row.calls_used,
  callsHeld: held,
  expiresAt: toMs(row.expires_at),
  revokedAt: toMs(row.revoked_at),
  createdAt: Number(row.created_at),
  source: row.source,
});

/**
 * The ledger in PostgreSQL: the same steps as SQLite, serialised per token with SELECT … FOR UPDATE. Writes go
 * through a group commit (`postgres-group-commit.ts`): those of one event-loop turn share one transaction, each in
 * its own savepoint.
 */
export async function openPostgresLedger(connectionString: string, logger?: Logger): Promise<LedgerStore> {
  const pool = openPool(connectionString, 10, logger);
  try {
    await createTables(pool, ADVISORY_LOCKS.ledgerSchema, SCHEMA);
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw new Error(`PostgreSQL at ${connectionString.replace(/\/\/[^@/]*@/, '//…@')}: ${(error as Error).message}`, { cause: error });
  }
  const group = createPostgresGroupCommit(pool);

  const tokenColumns = 'service_id, calls_total, calls_used, expires_at, revoked_at, created_at, source';
  const heldColumn = "(SELECT COUNT(*) FROM reservations r WHERE r.token_hash = t.token_hash AND r.state = 'held' AND r.lease_until > $1) AS held";
  // The token of each use held by this process: its commit or release is sorted under that token without a lookup.
  const heldHere = new Map<string, string>();
  const reservationKey = (reservationId: string): LockKey => {
    const tokenHash = heldHere.get(reservationId);
    heldHere.delete(reservationId);
    return tokenHash === undefined ? { reservationId } : tokenKey(tokenHash);
  };
  const insertToken = (client: pg.PoolClient, token: NewToken, now: number) =>
    client.query('INSERT INTO payment_tokens (token_hash, service_id, calls_total, expires_at, created_at, source) VALUES ($1, $2, $3, $4, $5, $6)', [
      token.tokenHash,
      token.serviceId,
      token.calls,
      token.expiresAt,
      now,
      token.source,
    ]);
  const nonceWhere = 'network = $1 AND asset = $2 AND payer = $3 AND nonce = $4';

  const reserve = async (client: pg.PoolClient, hold: TokenHold): Promise<TokenRefusal | undefined> => {
    const token = (await client.query<TokenRow>({ name: 'ledger-lock-token', text: `SELECT ${tokenColumns} FROM payment_tokens WHERE token_hash = $1 FOR UPDATE`, values: [hold.tokenHash] }))
      .rows[0];
    const refusal = standingRefusal(token && toState(token, 0), hold.serviceId, hold.now);
    if (refusal || !token) return refusal ?? 'unknown';
    // A statement of its own, after the lock: its snapshot sees every hold committed before the lock was granted (the
    // holds it expires are not counted either way).
    const held = await client.query({
      name: 'ledger-hold',
      text: `WITH expired AS (UPDATE reservations SET state = 'expired', closed_at = $5 WHERE token_hash = $2 AND state = 'held' AND lease_until <= $5)
             INSERT INTO reservations (id, token_hash, service_id, state, lease_until, created_at)
             SELECT $1, $2, $3, 'held', $4::bigint, $5::bigint
             WHERE (SELECT COUNT(*) FROM reservations WHERE token_hash = $2 AND state = 'held' AND lease_until > $5) < $6`,
      values: [hold.reservationId, hold.tokenHash, hold.serviceId, hold.leaseUntil, hold.now, token.calls_total - token.calls_used],
    });
    return held.rowCount === 1 ? undefined : 'in_use';
  };

  const commit = async (client: pg.PoolClient, reservationId: string, usd: string, now: number) => {
    const charged = await client.query({
      name: 'ledger-commit',
      text: `WITH closed AS (UPDATE reservations SET state = 'committed', closed_at = $2 WHERE id = $1 AND state = 'held' RETURNING token_hash, service_id),
             spent AS (UPDATE payment_tokens SET calls_used = calls_used + 1 WHERE token_hash IN (SELECT token_hash FROM closed))
             INSERT INTO charges (service_id, usd, token_hash, reservation_id, created_at) SELECT service_id, $3, token_hash, $1, $2 FROM closed`,
      values: [reservationId, now, usd],
    });
    return charged.rowCount === 1;
  };

  const settle = async (client: pg.PoolClient, settlement: Parameters<LedgerStore['recordSettlement']>[0], now: number, token?: NewToken) => {
    const { network, asset, payer, nonce } = settlement.nonce;
    await client.query(`UPDATE x402_nonces SET state = 'settled', updated_at = $5 WHERE ${nonceWhere} AND state = 'held'`, [network, asset, payer, nonce, now]);
    const inserted = await client.query<{ id: string }>(
      `INSERT INTO settlements (network, asset, payer, nonce, amount, usd, transaction_hash, service_id, purpose, token_hash, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id`,
      [network, asset, payer, nonce, settlement.amount, settlement.usd, settlement.transaction, settlement.serviceId, settlement.purpose, token?.tokenHash ?? null, now],
    );
    if (token) await insertToken(client, token, now);
    else
      await client.query('INSERT INTO charges (service_id, usd, settlement_id, created_at) VALUES ($1, $2, $3, $4)', [settlement.serviceId, settlement.usd, Number(inserted.rows[0].id), now]);
  };

  return {
    ...postgresCallRecords(pool, group, reservationKey),
    async createToken(token, now) {
      await group.write(tokenKey(token.tokenHash), (client) => insertToken(client, token, now), { durable: true });
    },
    async findToken(tokenHash, now): Promise<TokenState | undefined> {
      const row = (await pool.query<TokenRow & { held: string }>(`SELECT ${tokenColumns}, ${heldColumn} FROM payment_tokens t WHERE token_hash = $2`, [now, tokenHash])).rows[0];
      return row && toState(row, Number(row.held));
    },
    revokeToken(tokenHash, now) {
      return group.write(tokenKey(tokenHash), async (client) => (await client.query('UPDATE payment_tokens SET revoked_at = COALESCE(revoked_at, $1) WHERE token_hash = $2', [now, tokenHash])).rowCount === 1);
    },
    async reserveTokenUse(hold) {
      const refusal = await group.write(tokenKey(hold.tokenHash), (client) => reserve(client, hold));
      if (!refusal) heldHere.set(hold.reservationId, hold.tokenHash);
      return refusal;
    },
    commitTokenUse(reservationId, usd, now) {
      return group.write(reservationKey(reservationId), (client) => commit(client, reservationId, usd, now));
    },
    releaseTokenUse(reservationId, now) {
      return group.write(
        reservationKey(reservationId),
        async (client) =>
          (await client.query({ name: 'ledger-release', text: "UPDATE reservations SET state = 'released', closed_at = $1 WHERE id = $2 AND state = 'held'", values: [now, reservationId] }))
            .rowCount === 1,
      );
    },
    claimNonce(key, serviceId, now) {
      return group.write(nonceKey(key), async (client) => {
        const inserted = await client.query(
          "INSERT INTO x402_nonces (network, asset, payer, nonce, state, service_id, created_at, updated_at) VALUES ($1, $2, $3, $4, 'held', $5, $6, $6) ON CONFLICT DO NOTHING",
          [key.network, key.asset, key.payer, key.nonce, serviceId, now],
        );
        return inserted.rowCount === 1;
      });
    },
    async nonceSeen(key) {
      return ((await pool.query(`SELECT 1 FROM x402_nonces WHERE ${nonceWhere}`, [key.network, key.asset, key.payer, key.nonce])).rowCount ?? 0) > 0;
    },
    async forgetNonce(key) {
      await group.write(nonceKey(key), (client) => client.query(`DELETE FROM x402_nonces WHERE ${nonceWhere} AND state = 'held'`, [key.network, key.asset, key.payer, key.nonce]));
    },
    async releaseNonce(key, now) {
      await group.write(nonceKey(key), (client) =>
        client.query(`UPDATE x402_nonces SET state = 'released', updated_at = $5 WHERE ${nonceWhere} AND state = 'held'`, [key.network, key.asset, key.payer, key.nonce, now]),
      );
    },
    async recordSettlement(settlement, now, token) {
      await group.write(nonceKey(settlement.nonce), (client) => settle(client, settlement, now, token), { durable: true });
    },
    async listTokens({ serviceId, now }) {
      const { rows } = await pool.query<TokenRow & { token_hash: string; held: string }>(
        `SELECT token_hash, ${tokenColumns}, ${heldColumn} FROM payment_tokens t WHERE $2::text IS NULL OR service_id = $2 ORDER BY created_at, token_hash`,
        [now, serviceId ?? null],
      );
      return rows.map((row) => ({ tokenHash: row.token_hash, ...toState(row, Number(row.held)) }));
    },
    async chargeTotals({ from, to }) {
      const { rows } = await pool.query<{ service_id: string; day: string; usd: string; calls: string }>(
        `SELECT service_id, created_at / ${MS_PER_DAY} AS day, usd, COUNT(*) AS calls FROM charges
         WHERE created_at >= $1 AND created_at < $2 GROUP BY service_id, created_at / ${MS_PER_DAY}, usd ORDER BY day, service_id, usd`,
        [from, to],
      );
      return rows.map((row) => ({ serviceId: row.service_id, day: Number(row.day), usd: row.usd, calls: Number(row.calls) }));
    },
    async close() {
      await group.settled();
      await pool.end();
    },
  };
}
