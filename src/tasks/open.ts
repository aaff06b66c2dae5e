import { isPostgresUrl, sqliteFileOf } from '../config.js';
import type { Logger } from '../logger.js';
import type { TaskRecords } from './records.js';

/** Tasks live where the ledger does (DATABASE_URL): a SQLite file, or PostgreSQL shared by replicas. */
export async function openTaskRecords(databaseUrl: string, logger?: Logger): Promise<TaskRecords> {
  if (isPostgresUrl(databaseUrl)) {
    const { openPostgresTaskRecords } = await import('./postgres-records.js');
    return openPostgresTaskRecords(databaseUrl, logger);
  }
  const { openSqliteTaskRecords } = await import('./sqlite-records.js');
  return openSqliteTaskRecords(sqliteFileOf(databaseUrl));
}
