import pg from 'pg';
import type { Logger } from './logger.js';

/**
 * A PostgreSQL pool for one store. pg reports a lost idle connection on the pool (unhandled, that would end the
 * process); it is logged, and the pool opens another when next needed.
 */
export function openPool(connectionString: string, max: number, logger?: Logger): pg.Pool {
  const pool = new pg.Pool({ connectionString, max });
  pool.on('error', (error) => logger?.warn({ err: error.message }, 'a PostgreSQL connection was lost; the pool opens another'));
  return pool;
}

/** Runs `work` in one transaction on one connection: committed when it returns, rolled back when it throws. */
export async function inTransaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

/**
 * Creates a store's tables (idempotent DDL) under an advisory lock that every process agrees on, so replicas that
 * start together wait for each other instead of racing.
 */
export function createTables(pool: pg.Pool, lock: number, schema: string): Promise<void> {
  return inTransaction(pool, async (client) => {
    await client.query('SELECT pg_advisory_xact_lock($1)', [lock]);
    await client.query(schema);
  });
}

/** `createTables` once per store, on first use; a failed attempt is tried again on the next use. */
export function createTablesOnce(pool: pg.Pool, lock: number, schema: string): () => Promise<void> {
  let ready: Promise<void> | undefined;
  return () =>
    (ready ??= createTables(pool, lock, schema).catch((error: unknown) => {
      ready = undefined;
      throw error;
    }));
}
