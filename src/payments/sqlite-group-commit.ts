import type Database from 'better-sqlite3';

/**
 * Group commit on one SQLite connection: the writes asked for in the same turn of the event loop (every request
 * whose handler reached the ledger in one poll phase) run in one IMMEDIATE transaction, so they share one lock, one
 * WAL commit and one copy of each page they touch. Each write runs in a savepoint of its own: one that throws is
 * rolled back alone and the others keep their results. Every caller gets its own result, or its own error, only
 * once the whole transaction is committed; when the commit itself fails, every caller of that group gets the error
 * and nothing of it was written.
 */
export interface GroupCommit {
  /**
   * Runs `work` (synchronous statements on this connection) in the next group transaction. `durable`: that
   * transaction's commit syncs the WAL to disk before anyone gets a result (money coming in), instead of at the next
   * checkpoint.
   */
  write<T>(work: () => T, options?: { durable?: boolean }): Promise<T>;
  /** Runs the writes still waiting now (before the connection closes). */
  flush(): void;
}

interface Pending {
  work: () => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

type Outcome = { value: unknown } | { error: unknown };

export function createGroupCommit(db: Database.Database): GroupCommit {
  let waiting: Pending[] = [];
  let durable = false;
  let scheduled = false;
  const usualSync = db.pragma('synchronous', { simple: true }) as number;

  // Called inside the group transaction, better-sqlite3 makes this a SAVEPOINT ... RELEASE (ROLLBACK TO on a throw).
  const inSavepoint = db.transaction((work: () => unknown) => work());
  const runGroup = db.transaction((group: Pending[]): Outcome[] =>
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

  function flush() {
    scheduled = false;
    const group = waiting;
    const syncNow = durable;
    waiting = [];
    durable = false;
    if (group.length === 0) return;
    let outcomes: Outcome[];
    try {
      if (syncNow) db.pragma('synchronous = FULL');
      outcomes = runGroup.immediate(group);
    } catch (error) {
      for (const item of group) item.reject(error);
      return;
    } finally {
      if (syncNow && db.open) db.pragma(`synchronous = ${usualSync}`);
    }
    outcomes.forEach((outcome, index) => ('error' in outcome ? group[index].reject(outcome.error) : group[index].resolve(outcome.value)));
  }

  return {
    write<T>(work: () => T, options?: { durable?: boolean }) {
      return new Promise<T>((resolve, reject) => {
        waiting.push({ work, resolve: resolve as (value: unknown) => void, reject });
        if (options?.durable) durable = true;
        if (!scheduled) {
          scheduled = true;
          setImmediate(flush);
        }
      });
    },
    flush,
  };
}
