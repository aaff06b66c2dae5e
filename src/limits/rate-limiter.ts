import { isPostgresUrl } from '../config.js';
import type { HitCounter } from './hit-counter.js';
import type { Logger } from '../logger.js';


export interface RateDecision {
  allowed: boolean;
  /** Seconds until the window that refused this request ends. */
  retryAfterSeconds: number;
}

export interface RateLimiter {
  /** Counts one request against each key (a client address, a payment token) and refuses it when any is over. */
  check(keys: string[]): Promise<RateDecision>;
  close(): Promise<void>;
}

export const WINDOW_MS = 60_000;

/** One process's counts: right for one server; replicas on PostgreSQL share theirs instead. */
export function createMemoryCounter(): HitCounter {
  const counts = new Map<string, number>();
  let current = -1;
  return {
    async hit(key, window) {
      if (window !== current) {
        counts.clear();
        current = window;
      }
      const count = (counts.get(key) ?? 0) + 1;
      counts.set(key, count);
      return count;
    },
    close: async () => undefined,
  };
}

export function createRateLimiter(options: { perMinute: number; counter: HitCounter; now?: () => number }): RateLimiter {
  const { perMinute, counter } = options;
  const now = options.now ?? Date.now;
  return {
    async check(keys) {
      const at = now();
      const window = Math.floor(at / WINDOW_MS);
      const counts = await Promise.all(keys.map((key) => counter.hit(key, window)));
      const retryAfterSeconds = Math.max(1, Math.ceil(((window + 1) * WINDOW_MS - at) / 1000));
      return { allowed: counts.every((count) => count <= perMinute), retryAfterSeconds };
    },
    close: () => counter.close(),
  };
}

/** IMAGESEG_RATE_LIMIT: counted where the ledger is when that is PostgreSQL (loaded on first use), else in memory. */
export function openRateLimiter(perMinute: number, databaseUrl: string, logger?: Logger): RateLimiter {
  if (!isPostgresUrl(databaseUrl)) return createRateLimiter({ perMinute, counter: createMemoryCounter() });
  let loaded: Promise<HitCounter> | undefined;
  const counter = () => (loaded ??= import('./postgres-counter.js').then(({ createPostgresCounter }) => createPostgresCounter(databaseUrl, logger)));
  return createRateLimiter({
    perMinute,
    counter: {
      hit: async (key, window) => (await counter()).hit(key, window),
      close: async () => {
        if (loaded) await (await loaded).close();
        loaded = undefined;
      },
    },
  });
}
