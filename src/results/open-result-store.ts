import { isPostgresUrl } from '../config.js';
import { createFileResultStore, type ResultStore } from './result-store.js';
import type { Logger } from '../logger.js';

export interface ResultStoreOptions {
  databaseUrl: string;
  /** Where the file store keeps results (beside a SQLite ledger). */
  directory: string;
  baseUrl: () => string;
  ttlMs: number;
  logger?: Logger;
}

/**
 * Results live where the ledger does: files beside a SQLite ledger (one machine), or PostgreSQL shared by replicas.
 * The PostgreSQL store (and the pg driver) loads on first use, which keeps stdio start-up fast.
 */
export function openResultStore(options: ResultStoreOptions): ResultStore {
  const { databaseUrl, directory, baseUrl, ttlMs, logger } = options;
  if (!isPostgresUrl(databaseUrl)) return createFileResultStore({ directory, baseUrl, ttlMs });
  let loaded: Promise<ResultStore> | undefined;
  const store = () =>
    (loaded ??= import('./postgres-result-store.js').then(({ createPostgresResultStore }) => createPostgresResultStore({ connectionString: databaseUrl, baseUrl, ttlMs, ...(logger ? { logger } : {}) })));
  return {
    save: async (bytes, mimeType) => (await store()).save(bytes, mimeType),
    load: async (id) => (await store()).load(id),
    sweep: async (now) => (await store()).sweep(now),
    count: async () => (await store()).count(),
    close: async () => {
      if (loaded) await (await loaded).close();
      loaded = undefined;
    },
  };
}
