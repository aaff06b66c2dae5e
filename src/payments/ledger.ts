import { isPostgresUrl, sqliteFileOf } from '../config.js';
import type { Logger } from '../logger.js';
import type { LedgerStore } from './store.js';

/** DATABASE_URL: a file path (or file: URL) for SQLite, the default; postgres://… for PostgreSQL. */
export async function openLedger(databaseUrl: string, logger?: Logger): Promise<LedgerStore> {
  if (isPostgresUrl(databaseUrl)) {
    const { openPostgresLedger } = await import('./postgres-store.js');
    return openPostgresLedger(databaseUrl, logger);
  }
  const { openSqliteLedger } = await import('./sqlite-store.js');
  return openSqliteLedger(sqliteFileOf(databaseUrl));
}
