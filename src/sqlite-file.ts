import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';

/**
 * The ledger's SQLite file, opened the way every store shares it: WAL, so several processes (and each store's own
 * connection) read while one writes; a writer waits up to 10 s for another's transaction.
 *
 * NORMAL in WAL mode survives any process crash; a power cut may drop the last few commits. Stores that take money
 * in make those commits durable themselves.
 */
export function openSqliteFile(file: string): Database.Database {
  if (file !== ':memory:') mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('busy_timeout = 10000');
  db.pragma('synchronous = NORMAL');
  return db;
}
