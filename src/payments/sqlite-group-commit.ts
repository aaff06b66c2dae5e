import type Database from 'better-sqlite3';
import { createGroupCommit, type GroupedWrite, type Outcome } from './group-commit.js';

/**
 * The group commit (`group-commit.ts`) on one SQLite connection: a group is one IMMEDIATE transaction, so its writes
 * (synchronous statements on this connection) share one lock, one WAL commit and one copy of each page they touch.
 * A durable group's commit syncs the WAL to disk, instead of the next checkpoint doing it.
 */
export interface SqliteGroupCommit {
  write<T>(work: () => T, options?: { durable?: boolean }): Promise<T>;
  settled(): Promise<void>;
}

export function createSqliteGroupCommit(db: Database.Database): SqliteGroupCommit {
  const usualSync = db.pragma('synchronous', { simple: true }) as number;

  // Called inside the group transaction, better-sqlite3 makes this a SAVEPOINT ... RELEASE (ROLLBACK TO on a throw).
  const inSavepoint = db.transaction((work: () => unknown) => work());
  const runGroup = db.transaction((group: ReadonlyArray<GroupedWrite<() => unknown>>): Outcome[] =>
    group.map((item): Outcome => {
      // Some errors (disk full, I/O) make SQLite roll the whole transaction back: nothing after them may run outside it.
      if (!db.inTransaction) return { error: new Error('the ledger transaction was rolled back by an earlier write of its group') };
      try {
        return { value: inSavepoint(item.work) };
      } catch (error) {
        return { error };
      }
    }),
  );

  return createGroupCommit({
    open: () => db,
    maxWrites: Infinity,
    // Each group runs synchronously once formed: two never overlap.
    maxRunning: Infinity,
    run(_db, group) {
      const durable = group.some((item) => item.durable);
      try {
        if (durable) db.pragma('synchronous = FULL');
        return runGroup.immediate(group);
      } finally {
        if (durable && db.open) db.pragma(`synchronous = ${usualSync}`);
      }
    },
  });
}
