import type Database from 'better-sqlite3';
import type { CallRecordCounts, CallRecordStore, IdempotencyClaim, IdempotencyRecord, JobRecord } from './store.js';
import type { SqliteGroupCommit } from './sqlite-group-commit.js';
import { COUNT_RECORDS, ENDED_HOLDS, SWEEP_STATEMENTS, sweepCutoffs } from './call-record-sweep.js';

interface JobRow {
  job_id: string;
  service_id: string;
  payer: string;
  state: JobRecord['state'];
  hold: string | null;
  hold_until: number;
}

export const toJobRecord = (row: { job_id: string; service_id: string; payer: string; state: JobRecord['state']; hold: string | null; hold_until: number | string }): JobRecord => ({
  jobId: row.job_id,
  serviceId: row.service_id,
  payer: row.payer,
  state: row.state,
  hold: row.hold,
  holdUntil: Number(row.hold_until),
});

/** Idempotency records and job holds in the ledger's SQLite file; every write goes through the ledger's group commit. */
export function sqliteCallRecords(db: Database.Database, group: SqliteGroupCommit): CallRecordStore {
  const statements = {
    dropStale: db.prepare(
      "DELETE FROM idempotency_records WHERE scope = @scope AND key = @key AND (expires_at <= @now OR (state = 'running' AND lease_until <= @now))",
    ),
    insertClaim: db.prepare(
      "INSERT INTO idempotency_records (scope, key, fingerprint, state, lease_until, expires_at, created_at) VALUES (@scope, @key, @fingerprint, 'running', @leaseUntil, @expiresAt, @now) ON CONFLICT DO NOTHING",
    ),
    record: db.prepare<[string, string], IdempotencyRecord>('SELECT fingerprint, state, answer FROM idempotency_records WHERE scope = ? AND key = ?'),
    finish: db.prepare<[string, number, string, string]>("UPDATE idempotency_records SET state = 'done', answer = ?, expires_at = MAX(expires_at, ?) WHERE scope = ? AND key = ?"),
    drop: db.prepare<[string, string]>('DELETE FROM idempotency_records WHERE scope = ? AND key = ?'),
    insertJob: db.prepare(
      "INSERT INTO async_jobs (job_id, service_id, payer, state, hold_until, created_at) VALUES (@jobId, @serviceId, @payer, 'running', @holdUntil, @now) ON CONFLICT DO NOTHING",
    ),
    job: db.prepare<[string], JobRow>('SELECT job_id, service_id, payer, state, hold, hold_until FROM async_jobs WHERE job_id = ?'),
    holdJob: db.prepare<[string, number, string]>("UPDATE async_jobs SET state = 'held', hold = ?, hold_until = ? WHERE job_id = ? AND state = 'running'"),
    closeJob: db.prepare<[string, number, string]>("UPDATE async_jobs SET state = ?, closed_at = ? WHERE job_id = ? AND state IN ('running', 'held')"),
    extendHold: db.prepare<[number, string]>("UPDATE reservations SET lease_until = ? WHERE id = ? AND state = 'held'"),
    sweep: {
      idempotency: db.prepare<[{ 1: number }]>(SWEEP_STATEMENTS.idempotency),
      jobs: db.prepare<[{ 1: number }]>(SWEEP_STATEMENTS.jobs),
      holds: db.prepare<[{ 1: number }]>(SWEEP_STATEMENTS.holds),
    },
    endedHolds: db.prepare<[{ 1: number }], JobRow>(ENDED_HOLDS),
    countRecords: db.prepare<[{ 1: number }], CallRecordCounts>(COUNT_RECORDS),
  };
  const sweep = (now: number, ttlMs: number): CallRecordCounts => {
    const cutoffs = sweepCutoffs(now, ttlMs);
    const changed = (kind: keyof typeof SWEEP_STATEMENTS) => statements.sweep[kind].run({ 1: cutoffs[kind] }).changes;
    return { idempotency: changed('idempotency'), jobs: changed('jobs'), holds: changed('holds') };
  };
  const claim = (request: IdempotencyClaim): IdempotencyRecord | undefined => {
    statements.dropStale.run(request);
    if (statements.insertClaim.run(request).changes === 1) return undefined;
    return statements.record.get(request.scope, request.key);
  };

  return {
    claimIdempotencyKey(request) {
      return group.write(() => claim(request));
    },
    async finishIdempotencyKey(scope, key, answer, keepUntil = 0) {
      await group.write(() => statements.finish.run(answer, keepUntil, scope, key));
    },
    async dropIdempotencyKey(scope, key) {
      await group.write(() => statements.drop.run(scope, key));
    },
    async recordJob(job) {
      await group.write(() => statements.insertJob.run(job));
    },
    async findJob(jobId) {
      const row = statements.job.get(jobId);
      return row && toJobRecord(row);
    },
    async holdJob(jobId, hold, holdUntil) {
      await group.write(() => statements.holdJob.run(hold, holdUntil, jobId));
    },
    closeJob(jobId, state, now) {
      return group.write(() => statements.closeJob.run(state, now, jobId).changes === 1);
    },
    extendTokenUse(reservationId, leaseUntil) {
      return group.write(() => statements.extendHold.run(leaseUntil, reservationId).changes === 1);
    },
    sweep(now, ttlMs) {
      return group.write(() => sweep(now, ttlMs));
    },
    async endedHolds(now) {
      return statements.endedHolds.all({ 1: now }).map(toJobRecord);
    },
    async countRecords(now) {
      return statements.countRecords.get({ 1: now })!;
    },
  };
}
