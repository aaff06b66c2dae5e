import type { HitCounter } from './hit-counter.js';
import { createTablesOnce, openPool } from '../postgres-pool.js';
import { ADVISORY_LOCKS } from '../advisory-locks.js';
import type { Logger } from '../logger.js';


const SCHEMA = `
CREATE TABLE IF NOT EXISTS rate_limit_hits (
  key    TEXT NOT NULL,
  minute BIGINT NOT NULL,
  hits   INTEGER NOT NULL,
  PRIMARY KEY (key, minute)
);
`;

/** Hits counted in PostgreSQL: one upsert per key, so every replica sees the same count. Old windows are deleted. */
export function createPostgresCounter(connectionString: string, logger?: Logger): HitCounter {
  const pool = openPool(connectionString, 4, logger);
  let sweptWindow = -1;

  const open = createTablesOnce(pool, ADVISORY_LOCKS.countersSchema, SCHEMA);

  return {
    async hit(key, window) {
      await open();
      if (window !== sweptWindow) {
        sweptWindow = window;
        await pool.query('DELETE FROM rate_limit_hits WHERE minute < $1', [window - 1]);
      }
      const { rows } = await pool.query<{ hits: number }>(
        'INSERT INTO rate_limit_hits (key, minute, hits) VALUES ($1, $2, 1) ON CONFLICT (key, minute) DO UPDATE SET hits = rate_limit_hits.hits + 1 RETURNING hits',
        [key, window],
      );
      return rows[0].hits;
    },
    async close() {
      await pool.end();
    },
  };
}
