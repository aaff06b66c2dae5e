/**
 * The sweep's statements, one text for both stores. Each takes one parameter, `$1`, which SQLite reads as a
 * parameter named "1": the cutoff (now, or now less the record TTL for closed jobs).
 */
export const SWEEP_STATEMENTS = {
  idempotency: 'DELETE FROM idempotency_records WHERE expires_at <= $1',
  // A running job that long past its hold was left by a process that died: nobody will close it.
  jobs: "DELETE FROM async_jobs WHERE (state IN ('committed', 'released') AND closed_at <= $1) OR (state = 'running' AND hold_until <= $1)",
  holds: "UPDATE reservations SET state = 'expired', closed_at = $1 WHERE state = 'held' AND lease_until <= $1",
} as const;

export const ENDED_HOLDS = "SELECT job_id, service_id, payer, state, hold, hold_until FROM async_jobs WHERE state = 'held' AND hold_until <= $1";

export const COUNT_RECORDS = `SELECT (SELECT COUNT(*) FROM idempotency_records) AS idempotency, (SELECT COUNT(*) FROM async_jobs) AS jobs,
  (SELECT COUNT(*) FROM reservations WHERE state = 'held' AND lease_until > $1) + (SELECT COUNT(*) FROM x402_nonces WHERE state = 'held') AS holds`;

/** What each sweep statement's `$1` is. */
export const sweepCutoffs = (now: number, ttlMs: number) => ({ idempotency: now, jobs: now - ttlMs, holds: now });
