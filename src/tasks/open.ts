import type { TaskRecords } from './records.js';

const POSTGRES_URL = /^postgres(ql)?:\/\//i;

/** Tasks live where the ledger does (DATABASE_URL): a SQLite file, or PostgreSQL shared by replicas. */
export async function openTaskRecords(databaseUrl: string): Promise<TaskRecords> {
  if (POSTGRES_URL.test(databaseUrl)) {
    const { openPostgresTaskRecords } = await import('./postgres-records.js');
    return openPostgresTaskRecords(databaseUrl);
  }
  const { openSqliteTaskRecords } = await import('./sqlite-records.js');
  return openSqliteTaskRecords(databaseUrl.replace(/^file:(\/\/)?/, ''));
}
