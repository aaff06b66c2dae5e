import { openSqliteFile } from '../sqlite-file.js';
import { MS_PER_DAY, standingRefusal, type ChargeTotal, type LedgerStore, type NewToken, type NonceKey, type TokenRefusal, type TokenState } from './store.js';
import { ledgerSchema } from './ledger-schema.js';
import { sqliteCallRecords } from './sqlite-call-records.js';
import { createSqliteGroupCommit } from './sqlite-group-commit.js';

const SCHEMA = ledgerSchema('sqlite');

interface TokenRow {
  service_id: string;
  calls_total: number;
  calls_used: number;
  expires_at: number | null;
  revoked_at: number | null;
  created_at: number;
  source: 'operator' | 'x402';
}

/**
 * The ledger in one SQLite file (WAL). Writes go through a group commit: those of one event-loop turn share one
 * IMMEDIATE transaction (several processes may share the file), each in its own savepoint.
 */
export function openSqliteLedger(file: string): LedgerStore {
  // A power cut may drop the last few per-call uses (in the customer's favour). Money coming in (tokens, settlements)
  // is made durable at once: its group's commit syncs the WAL (`durable`). FULL on every commit cost two fsyncs per
  // paid call: ~5 ms and a third of the throughput.
  const db = openSqliteFile(file);
  db.pragma('foreign_keys = ON');
  db.exec(SCHEMA);

  const statements = {
    insertToken: db.prepare(
      'INSERT INTO payment_tokens (token_hash, service_id, calls_total, expires_at, created_at, source) VALUES (@tokenHash, @serviceId, @calls, @expiresAt, @now, @source)',
    ),
    token: db.prepare<[string], TokenRow>('SELECT service_id, calls_total, calls_used, expires_at, revoked_at, created_at, source FROM payment_tokens WHERE token_hash = ?'),
    heldCount: db.prepare<[string, number], { held: number }>("SELECT COUNT(*) AS held FROM reservations WHERE token_hash = ? AND state = 'held' AND lease_until > ?"),
    expireHolds: db.prepare("UPDATE reservations SET state = 'expired', closed_at = ? WHERE token_hash = ? AND state = 'held' AND lease_until <= ?"),
    revoke: db.prepare('UPDATE payment_tokens SET revoked_at = COALESCE(revoked_at, ?) WHERE token_hash = ?'),
    hold: db.prepare(
      "INSERT INTO reservations (id, token_hash, service_id, state, lease_until, created_at) VALUES (@reservationId, @tokenHash, @serviceId, 'held', @leaseUntil, @now)",
    ),
    closeHold: db.prepare<[string, number, string]>("UPDATE reservations SET state = ?, closed_at = ? WHERE id = ? AND state = 'held'"),
    holdOf: db.prepare<[string], { token_hash: string; service_id: string }>('SELECT token_hash, service_id FROM reservations WHERE id = ?'),
    spend: db.prepare('UPDATE payment_tokens SET calls_used = calls_used + 1 WHERE token_hash = ?'),
    charge: db.prepare(
      'INSERT INTO charges (service_id, usd, token_hash, reservation_id, settlement_id, created_at) VALUES (@serviceId, @usd, @tokenHash, @reservationId, @settlementId, @now)',
    ),
    claimNonce: db.prepare(
      "INSERT INTO x402_nonces (network, asset, payer, nonce, state, service_id, created_at, updated_at) VALUES (@network, @asset, @payer, @nonce, 'held', @serviceId, @now, @now) ON CONFLICT DO NOTHING",
    ),
    nonceSeen: db.prepare<[NonceKey], { seen: number }>('SELECT 1 AS seen FROM x402_nonces WHERE network = @network AND asset = @asset AND payer = @payer AND nonce = @nonce'),
    forgetNonce: db.prepare("DELETE FROM x402_nonces WHERE network = @network AND asset = @asset AND payer = @payer AND nonce = @nonce AND state = 'held'"),
    closeNonce: db.prepare(
      "UPDATE x402_nonces SET state = @state, updated_at = @now WHERE network = @network AND asset = @asset AND payer = @payer AND nonce = @nonce AND state = 'held'",
    ),
    tokens: db.prepare<[{ now: number; serviceId: string | null }], TokenRow & { token_hash: string; held: number }>(
      `SELECT token_hash, service_id, calls_total, calls_used, expires_at, revoked_at, created_at, source,
         (SELECT COUNT(*) FROM reservations r WHERE r.token_hash = t.token_hash AND r.state = 'held' AND r.lease_until > @now) AS held
       FROM payment_tokens t WHERE @serviceId IS NULL OR service_id = @serviceId ORDER BY created_at, token_hash`,
    ),
    chargeTotals: db.prepare<[number, number], { service_id: string; day: number; usd: string; calls: number }>(
      `SELECT service_id, created_at / ${MS_PER_DAY} AS day, usd, COUNT(*) AS calls FROM charges
       WHERE created_at >= ? AND created_at < ? GROUP BY service_id, created_at / ${MS_PER_DAY}, usd ORDER BY day, service_id, usd`,
    ),
    settlement: db.prepare(
      `INSERT INTO settlements (network, asset, payer, nonce, amount, usd, transaction_hash, service_id, purpose, token_hash, created_at)
       VALUES (@network, @asset, @payer, @nonce, @amount, @usd, @transaction, @serviceId, @purpose, @tokenHash, @now)`,
    ),
  };

  const group = createSqliteGroupCommit(db);

  const reserve = (hold: Parameters<LedgerStore['reserveTokenUse']>[0]): TokenRefusal | undefined => {
    const token = statements.token.get(hold.tokenHash);
    const refusal = standingRefusal(token && toState(token, 0), hold.serviceId, hold.now);
    if (refusal || !token) return refusal ?? 'unknown';
    statements.expireHolds.run(hold.now, hold.tokenHash, hold.now);
    const { held } = statements.heldCount.get(hold.tokenHash, hold.now)!;
    if (token.calls_used + held >= token.calls_total) return 'in_use';
    statements.hold.run(hold);
    return undefined;
  };

  const commit = (reservationId: string, usd: string, now: number): boolean => {
    if (statements.closeHold.run('committed', now, reservationId).changes !== 1) return false;
    const hold = statements.holdOf.get(reservationId)!;
    statements.spend.run(hold.token_hash);
    statements.charge.run({ serviceId: hold.service_id, usd, tokenHash: hold.token_hash, reservationId, settlementId: null, now });
    return true;
  };

  const settle = (settlement: Parameters<LedgerStore['recordSettlement']>[0], now: number, token?: NewToken) => {
    statements.closeNonce.run({ ...settlement.nonce, state: 'settled', now });
    const { lastInsertRowid } = statements.settlement.run({
      ...settlement.nonce,
      amount: settlement.amount,
      usd: settlement.usd,
      transaction: settlement.transaction,
      serviceId: settlement.serviceId,
      purpose: settlement.purpose,
      tokenHash: token?.tokenHash ?? null,
      now,
    });
    if (token) statements.insertToken.run({ ...token, now });
    else statements.charge.run({ serviceId: settlement.serviceId, usd: settlement.usd, tokenHash: null, reservationId: null, settlementId: Number(lastInsertRowid), now });
  };

  const toState = (row: TokenRow, held: number): TokenState => ({
    serviceId: row.service_id,
    callsTotal: row.calls_total,
    callsUsed: row.calls_used,
    callsHeld: held,
    expiresAt: row.expires_at,
    revokedAt: row.revoked_at,
    createdAt: row.created_at,
    source: row.source,
  });

  return {
    ...sqliteCallRecords(db, group),
    async createToken(token: NewToken, now: number) {
      await group.write(() => statements.insertToken.run({ ...token, now }), { durable: true });
    },
    async findToken(tokenHash, now) {
      const row = statements.token.get(tokenHash);
      return row && toState(row, statements.heldCount.get(tokenHash, now)!.held);
    },
    revokeToken(tokenHash, now) {
      return group.write(() => statements.revoke.run(now, tokenHash).changes === 1);
    },
    reserveTokenUse(hold) {
      return group.write(() => reserve(hold));
    },
    commitTokenUse(reservationId, usd, now) {
      return group.write(() => commit(reservationId, usd, now));
    },
    releaseTokenUse(reservationId, now) {
      return group.write(() => statements.closeHold.run('released', now, reservationId).changes === 1);
    },
    claimNonce(key: NonceKey, serviceId, now) {
      return group.write(() => statements.claimNonce.run({ ...key, serviceId, now }).changes === 1);
    },
    async nonceSeen(key) {
      return statements.nonceSeen.get(key) !== undefined;
    },
    async forgetNonce(key) {
      await group.write(() => statements.forgetNonce.run(key));
    },
    async releaseNonce(key, now) {
      await group.write(() => statements.closeNonce.run({ ...key, state: 'released', now }));
    },
    async recordSettlement(settlement, now, token) {
      await group.write(() => settle(settlement, now, token), { durable: true });
    },
    async listTokens({ serviceId, now }) {
      return statements.tokens.all({ now, serviceId: serviceId ?? null }).map((row) => ({ tokenHash: row.token_hash, ...toState(row, row.held) }));
    },
    async chargeTotals({ from, to }): Promise<ChargeTotal[]> {
      return statements.chargeTotals.all(from, to).map((row) => ({ serviceId: row.service_id, day: row.day, usd: row.usd, calls: row.calls }));
    },
    async close() {
      if (!db.open) return;
      await group.settled();
      db.close();
    },
  };
}
