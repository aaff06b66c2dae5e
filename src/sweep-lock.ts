import type pg from 'pg';
import { isPostgresUrl } from './config.js';
import type { Logger } from './logger.js';
import { ADVISORY_LOCKS } from './advisory-locks.js';


/** One sweeper at a time on a database several processes share. */
export interface SweepLock {
  /** Runs `work` while no other process sweeps; undefined, without running it, when another one does. */
  whileHeld<T>(work: () => Promise<T>): Promise<T | undefined>;
  close(): Promise<void>;
}

/**
 * PostgreSQL: a transaction-scoped advisory lock, let go however the round ends. SQLite needs none: every sweep
 * statement runs in the ledger's write transaction, so two processes never delete one row twice.
 */
export function openSweepLock(databaseUrl: string, logger?: Logger): SweepLock {
  if (!isPostgresUrl(databaseUrl)) return { whileHeld: (work) => work(), close: async () => undefined };
  // The pg driver loads with the first round, not at start.
  let opened: Promise<{ pool: pg.Pool; inTransaction: typeof import('./postgres-pool.js').inTransaction }> | undefined;
  const open = () => (opened ??= import('./postgres-pool.js').then(({ openPool, inTransaction }) => ({ pool: openPool(databaseUrl, 1, logger), inTransaction })));
  return {
    async whileHeld(work) {
      const { pool, inTransaction } = await open();
      return inTransaction(pool, async (client) => {
        const { rows } = await client.query<{ held: boolean }>('SELECT pg_try_advisory_xact_lock($1) AS held', [ADVISORY_LOCKS.sweep]);
        return rows[0].held ? work() : undefined;
      });
    },
    async close() {
      const current = opened;
      opened = undefined;
      await (await current?.catch(() => undefined))?.pool.end();
    },
  };
}
