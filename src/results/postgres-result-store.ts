import { isResultId, newResultId, resultUrl, type ResultStore } from './result-store.js';
import { createTablesOnce, openPool } from '../postgres-pool.js';
import { ADVISORY_LOCKS } from '../advisory-locks.js';
import type { Logger } from '../logger.js';


const SCHEMA = `
CREATE TABLE IF NOT EXISTS stored_results (
  id         TEXT PRIMARY KEY,
  mime_type  TEXT NOT NULL,
  bytes      BYTEA NOT NULL,
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS stored_results_expiry ON stored_results(expires_at);
`;

export interface PostgresResultStoreOptions {
  connectionString: string;
  baseUrl: () => string;
  ttlMs: number;
  logger?: Logger;
  now?: () => number;
}

/**
 * Results in PostgreSQL, so `/results/<id>` saved by one replica is served by every other. The table is created on
 * first use under an advisory lock; expired rows are never served, and are deleted by the sweeper.
 */
export function createPostgresResultStore(options: PostgresResultStoreOptions): ResultStore {
  const { connectionString, baseUrl, ttlMs } = options;
  const now = options.now ?? Date.now;
  const pool = openPool(connectionString, 4, options.logger);

  const open = createTablesOnce(pool, ADVISORY_LOCKS.resultsSchema, SCHEMA);

  return {
    async save(bytes, mimeType) {
      await open();
      const at = now();
      const id = newResultId(mimeType);
      await pool.query('INSERT INTO stored_results (id, mime_type, bytes, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)', [id, mimeType, bytes, at, at + ttlMs]);
      return { id, url: resultUrl(baseUrl(), id), mimeType };
    },
    async load(id) {
      if (!isResultId(id)) return null;
      await open();
      const row = (await pool.query<{ bytes: Buffer; mime_type: string }>('SELECT bytes, mime_type FROM stored_results WHERE id = $1 AND expires_at > $2', [id, now()])).rows[0];
      return row ? { bytes: row.bytes, mimeType: row.mime_type } : null;
    },
    async sweep(at) {
      await open();
      return (await pool.query('DELETE FROM stored_results WHERE expires_at <= $1', [at])).rowCount ?? 0;
    },
    async count() {
      await open();
      return Number((await pool.query<{ count: string }>('SELECT COUNT(*) AS count FROM stored_results')).rows[0].count);
    },
    async close() {
      await pool.end();
    },
  };
}
