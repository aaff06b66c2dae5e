/** Counts hits per key in one-minute windows; in PostgreSQL the count is shared by every replica. */
export interface HitCounter {
  /** Counts one hit of `key` in `window` and returns the window's count so far, this hit included. */
  hit(key: string, window: number): Promise<number>;
  close(): Promise<void>;
}
