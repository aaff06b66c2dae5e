import type { LedgerStore } from './store.js';

const POSTGRES_URL = /^postgres(ql)?:\/\//i;

/** DATABASE_URL: a file path (or file: URL) for SQLite, the default; postgres://… for PostgreSQL. */
export async function openLedger(databaseUrl: string): Promise<LedgerStore> {
  if (POSTGRES_URL.test(databaseUrl)) {
    const { openPostgresLedger } = await import('./postgres-store.js');
    return openPostgresLedger(databaseUrl);
  }
  const { openSqliteLedger } = await import('./sqlite-store.js');
  return openSqliteLedger(databaseUrl.replace(/^file:(\/\/)?/, ''));
}
