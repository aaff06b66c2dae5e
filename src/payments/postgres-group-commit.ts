import type pg from 'pg';
import { createGroupCommit, type Outcome } from './group-commit.js';
import { lockOrder, type LockKey } from './postgres-lock-order.js';

interface PostgresWrite {
  key: LockKey;
  run: (client: pg.PoolClient) => Promise<unknown>;
}

/**
 * The group commit (`group-commit.ts`) on a PostgreSQL pool: a group is one transaction on one pooled connection,
 * a savepoint per write, its writes in lock order (`postgres-lock-order.ts`). A group that holds no durable write
 * commits without waiting for the WAL flush (`synchronous_commit = off` for that transaction): a crash of the
 * PostgreSQL server may lose its last moment of per-call writes, in the customer's favour, as a power cut may on
 * SQLite. Durable groups (money coming in) commit as the server is configured.
 */
export interface PostgresGroupCommit {
  /** `key`: the rows `work` may lock (see postgres-lock-order.ts). */
  write<T>(key: LockKey, work: (client: pg.PoolClient) => Promise<T>, options?: { durable?: boolean }): Promise<T>;
  settled(): Promise<void>;
}

// Each write's savepoint is a subtransaction, and PostgreSQL keeps at most 64 of them per transaction in shared
// memory; past that every other session's snapshots get slower (subtransaction overflow).
const MAX_WRITES = 64;

export function createPostgresGroupCommit(pool: pg.Pool): PostgresGroupCommit {
  const group = createGroupCommit<PostgresWrite, pg.PoolClient>({
    open: () => pool.connect(),
    maxWrites: MAX_WRITES,
    async run(client, writes) {
      let broken: Error | undefined;
      try {
        const order = await lockOrder(client, writes.map((write) => write.work.key));
        const durable = writes.some((write) => write.durable);
        await client.query(`BEGIN; ${durable ? '' : 'SET LOCAL synchronous_commit = off; '}SAVEPOINT write`);
        const outcomes: Outcome[] = [];
        for (const [position, index] of order.entries()) {
          try {
            outcomes[index] = { value: await writes[index].work.run(client) };
            // The next write gets a fresh savepoint in the same round trip; after the last one, COMMIT keeps it.
            if (position < order.length - 1) await client.query('RELEASE SAVEPOINT write; SAVEPOINT write');
          } catch (error) {
            outcomes[index] = { error };
            await client.query('ROLLBACK TO SAVEPOINT write');
          }
        }
        const committed = await client.query('COMMIT');
        // COMMIT of a transaction that failed answers ROLLBACK, not an error.
        if (committed.command !== 'COMMIT') throw new Error('the ledger transaction was rolled back');
        return outcomes;
      } catch (error) {
        broken = error as Error;
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      } finally {
        // A connection that failed mid-group may be in any state: the pool drops it.
        client.release(broken);
      }
    },
  });
  return {
    write: (key, work, options) => group.write({ key, run: work }, options),
    settled: () => group.settled(),
  };
}
