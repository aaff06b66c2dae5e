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
