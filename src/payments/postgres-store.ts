import pg from 'pg';
import { MS_PER_DAY, standingRefusal, type LedgerStore, type NewToken, type TokenRefusal, type TokenState } from './store.js';
import { ledgerSchema } from './ledger-schema.js';
import { postgresCallRecords } from './postgres-call-records.js';
import { createTables, inTransaction, openPool } from '../postgres-pool.js';
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

/** The ledger in PostgreSQL: the same steps as SQLite, serialised per token with SELECT … FOR UPDATE. */
export async function openPostgresLedger(connectionString: string, logger?: Logger): Promise<LedgerStore> {
  const pool = openPool(connectionString, 10, logger);

  const transaction = <T>(work: (client: pg.PoolClient) => Promise<T>) => inTransaction(pool, work);

  try {
    await createTables(pool, ADVISORY_LOCKS.ledgerSchema, SCHEMA);
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw new Error(`PostgreSQL at ${connectionString.replace(/\/\/[^@/]*@/, '//…@')}: ${(error as Error).message}`, { cause: error });
  }

  const heldCount = async (client: pg.PoolClient | pg.Pool, tokenHash: string, now: number) =>
    Number((await client.query<{ held: string }>("SELECT COUNT(*) AS held FROM reservations WHERE token_hash = $1 AND state = 'held' AND lease_until > $2", [tokenHash, now])).rows[0].held);

  const tokenColumns = 'service_id, calls_total, calls_used, expires_at, revoked_at, created_at, source';
  const insertToken = (client: pg.PoolClient | pg.Pool, token: NewToken, now: number) =>
    client.query('INSERT INTO payment_tokens (token_hash, service_id, calls_total, expires_at, created_at, source) VALUES ($1, $2, $3, $4, $5, $6)', [
      token.tokenHash,
      token.serviceId,
      token.calls,
      token.expiresAt,
      now,
      token.source,
    ]);
  const insertCharge = (client: pg.PoolClient, values: [string, string, string | null, string | null, number | null, number]) =>
    client.query('INSERT INTO charges (service_id, usd, token_hash, reservation_id, settlement_id, created_at) VALUES ($1, $2, $3, $4, $5, $6)', values);
  const nonceWhere = 'network = $1 AND asset = $2 AND payer = $3 AND nonce = $4';

  return {
    ...postgresCallRecords(pool, transaction),
    async createToken(token, now) {
      await insertToken(pool, token, now);
    },
    async findToken(tokenHash, now): Promise<TokenState | undefined> {
      const row = (await pool.query<TokenRow>(`SELECT ${tokenColumns} FROM payment_tokens WHERE token_hash = $1`, [tokenHash])).rows[0];
      if (!row) return undefined;
      return toState(row, await heldCount(pool, tokenHash, now));
    },
    async revokeToken(tokenHash, now) {
      return (await pool.query('UPDATE payment_tokens SET revoked_at = COALESCE(revoked_at, $1) WHERE token_hash = $2', [now, tokenHash])).rowCount === 1;
    },
    async reserveTokenUse(hold) {
      return transaction(async (client): Promise<TokenRefusal | undefined> => {
        const token = (await client.query<TokenRow>(`SELECT ${tokenColumns} FROM payment_tokens WHERE token_hash = $1 FOR UPDATE`, [hold.tokenHash])).rows[0];
        const refusal = standingRefusal(token && toState(token, 0), hold.serviceId, hold.now);
        if (refusal || !token) return refusal ?? 'unknown';
        await client.query("UPDATE reservations SET state = 'expired', closed_at = $1 WHERE token_hash = $2 AND state = 'held' AND lease_until <= $1", [hold.now, hold.tokenHash]);
        if (token.calls_used + (await heldCount(client, hold.tokenHash, hold.now)) >= token.calls_total) return 'in_use';
        await client.query("INSERT INTO reservations (id, token_hash, service_id, state, lease_until, created_at) VALUES ($1, $2, $3, 'held', $4, $5)", [
          hold.reservationId,
          hold.tokenHash,
          hold.serviceId,
          hold.leaseUntil,
          hold.now,
        ]);
        return undefined;
      });
    },
    async commitTokenUse(reservationId, usd, now) {
      return transaction(async (client) => {
        const closed = await client.query<{ token_hash: string; service_id: string }>(
          "UPDATE reservations SET state = 'committed', closed_at = $1 WHERE id = $2 AND state = 'held' RETURNING token_hash, service_id",
          [now, reservationId],
        );
        const hold = closed.rows[0];
        if (!hold) return false;
        await client.query('UPDATE payment_tokens SET calls_used = calls_used + 1 WHERE token_hash = $1', [hold.token_hash]);
        await insertCharge(client, [hold.service_id, usd, hold.token_hash, reservationId, null, now]);
        return true;
      });
    },
    async releaseTokenUse(reservationId, now) {
      return (await pool.query("UPDATE reservations SET state = 'released', closed_at = $1 WHERE id = $2 AND state = 'held'", [now, reservationId])).rowCount === 1;
    },
    async claimNonce(key, serviceId, now) {
      const inserted = await pool.query(
        "INSERT INTO x402_nonces (network, asset, payer, nonce, state, service_id, created_at, updated_at) VALUES ($1, $2, $3, $4, 'held', $5, $6, $6) ON CONFLICT DO NOTHING",
        [key.network, key.asset, key.payer, key.nonce, serviceId, now],
      );
      return inserted.rowCount === 1;
    },
    async nonceSeen(key) {
      return ((await pool.query(`SELECT 1 FROM x402_nonces WHERE ${nonceWhere}`, [key.network, key.asset, key.payer, key.nonce])).rowCount ?? 0) > 0;
    },
    async forgetNonce(key) {
      await pool.query(`DELETE FROM x402_nonces WHERE ${nonceWhere} AND state = 'held'`, [key.network, key.asset, key.payer, key.nonce]);
    },
    async releaseNonce(key, now) {
      await pool.query(`UPDATE x402_nonces SET state = 'released', updated_at = $5 WHERE ${nonceWhere} AND state = 'held'`, [key.network, key.asset, key.payer, key.nonce, now]);
    },
    async recordSettlement(settlement, now, token) {
      await transaction(async (client) => {
        const { network, asset, payer, nonce } = settlement.nonce;
        await client.query(`UPDATE x402_nonces SET state = 'settled', updated_at = $5 WHERE ${nonceWhere} AND state = 'held'`, [network, asset, payer, nonce, now]);
        const inserted = await client.query<{ id: string }>(
          `INSERT INTO settlements (network, asset, payer, nonce, amount, usd, transaction_hash, service_id, purpose, token_hash, created_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id`,
          [network, asset, payer, nonce, settlement.amount, settlement.usd, settlement.transaction, settlement.serviceId, settlement.purpose, token?.tokenHash ?? null, now],
        );
        if (token) await insertToken(client, token, now);
        else await insertCharge(client, [settlement.serviceId, settlement.usd, null, null, Number(inserted.rows[0].id), now]);
      });
    },
    async listTokens({ serviceId, now }) {
      const { rows } = await pool.query<TokenRow & { token_hash: string; held: string }>(
        `SELECT token_hash, ${tokenColumns},
           (SELECT COUNT(*) FROM reservations r WHERE r.token_hash = t.token_hash AND r.state = 'held' AND r.lease_until > $1) AS held
         FROM payment_tokens t WHERE $2::text IS NULL OR service_id = $2 ORDER BY created_at, token_hash`,
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
      await pool.end();
    },
  };
}
