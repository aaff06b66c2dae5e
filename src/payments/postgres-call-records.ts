import type pg from 'pg';
import type { CallRecordStore, IdempotencyRecord, JobRecord } from './store.js';
import { toJobRecord } from './sqlite-call-records.js';
import { COUNT_RECORDS, ENDED_HOLDS, SWEEP_STATEMENTS, sweepCutoffs } from './call-record-sweep.js';
import type { PostgresGroupCommit } from './postgres-group-commit.js';
import { idempotencyKey, jobKey, type LockKey } from './postgres-lock-order.js';

/** An async_jobs row as pg hands it: the BIGINT hold_until arrives as a string. */
type JobRow = Parameters<typeof toJobRecord>[0] & { hold_until: string };

/**
 * Idempotency records and job holds in PostgreSQL: the same steps as SQLite, so replicas share them. A call's writes
 * go through the ledger's group commit; the sweep's bulk statements (one replica at a time) do not. `reservationKey`:
 * the lock key of a write on a token use.
 */
export function postgresCallRecords(pool: pg.Pool, group: PostgresGroupCommit, reservationKey: (reservationId: string) => LockKey): CallRecordStore {
  return {
    claimIdempotencyKey(claim) {
      return group.write(idempotencyKey(claim.scope, claim.key), async (client) => {
        await client.query(
          "DELETE FROM idempotency_records WHERE scope = $1 AND key = $2 AND (expires_at <= $3 OR (state = 'running' AND lease_until <= $3))",
          [claim.scope, claim.key, claim.now],
        );
        const inserted = await client.query(
          "INSERT INTO idempotency_records (scope, key, fingerprint, state, lease_until, expires_at, created_at) VALUES ($1, $2, $3, 'running', $4, $5, $6) ON CONFLICT DO NOTHING",
          [claim.scope, claim.key, claim.fingerprint, claim.leaseUntil, claim.expiresAt, claim.now],
        );
        if (inserted.rowCount === 1) return undefined;
        return (await client.query<IdempotencyRecord>('SELECT fingerprint, state, answer FROM idempotency_records WHERE scope = $1 AND key = $2', [claim.scope, claim.key])).rows[0];
      });
    },
    async finishIdempotencyKey(scope, key, answer, keepUntil = 0) {
      await group.write(idempotencyKey(scope, key), (client) =>
        client.query("UPDATE idempotency_records SET state = 'done', answer = $1, expires_at = GREATEST(expires_at, $4) WHERE scope = $2 AND key = $3", [answer, scope, key, keepUntil]),
      );
    },
    async dropIdempotencyKey(scope, key) {
      await group.write(idempotencyKey(scope, key), (client) => client.query('DELETE FROM idempotency_records WHERE scope = $1 AND key = $2', [scope, key]));
    },
    async recordJob(job) {
      await group.write(jobKey(job.jobId), (client) =>
        client.query("INSERT INTO async_jobs (job_id, service_id, payer, state, hold_until, created_at) VALUES ($1, $2, $3, 'running', $4, $5) ON CONFLICT DO NOTHING", [
          job.jobId,
          job.serviceId,
          job.payer,
          job.holdUntil,
          job.now,
        ]),
      );
    },
    async findJob(jobId): Promise<JobRecord | undefined> {
      const row = (await pool.query<JobRow>('SELECT job_id, service_id, payer, state, hold, hold_until FROM async_jobs WHERE job_id = $1', [jobId])).rows[0];
      return row && toJobRecord(row);
    },
    async holdJob(jobId, hold, holdUntil) {
      await group.write(jobKey(jobId), (client) => client.query("UPDATE async_jobs SET state = 'held', hold = $1, hold_until = $2 WHERE job_id = $3 AND state = 'running'", [hold, holdUntil, jobId]));
    },
    closeJob(jobId, state, now) {
      return group.write(
        jobKey(jobId),
        async (client) => (await client.query("UPDATE async_jobs SET state = $1, closed_at = $2 WHERE job_id = $3 AND state IN ('running', 'held')", [state, now, jobId])).rowCount === 1,
      );
    },
    extendTokenUse(reservationId, leaseUntil) {
      return group.write(
        reservationKey(reservationId),
        async (client) => (await client.query("UPDATE reservations SET lease_until = $1 WHERE id = $2 AND state = 'held'", [leaseUntil, reservationId])).rowCount === 1,
      );
    },
    async sweep(now, ttlMs) {
      const cutoffs = sweepCutoffs(now, ttlMs);
      const changed = async (kind: keyof typeof SWEEP_STATEMENTS) => (await pool.query(SWEEP_STATEMENTS[kind], [cutoffs[kind]])).rowCount ?? 0;
      return { idempotency: await changed('idempotency'), jobs: await changed('jobs'), holds: await changed('holds') };
    },
    async endedHolds(now) {
      return (await pool.query(ENDED_HOLDS, [now])).rows.map(toJobRecord);
    },
    async countRecords(now) {
      const counts = (await pool.query<Record<'idempotency' | 'jobs' | 'holds', string>>(COUNT_RECORDS, [now])).rows[0];
      return { idempotency: Number(counts.idempotency), jobs: Number(counts.jobs), holds: Number(counts.holds) };
    },
  };
}
