/** Nearest-rank percentile (p in 0..100) of unsorted samples. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1];
}

export const median = (samples: readonly number[]) => percentile(samples, 50);

export const mean = (samples: readonly number[]) => samples.reduce((sum, value) => sum + value, 0) / samples.length;

/** Runs `task` and returns its wall time in ms with its value. */
export async function timed<T>(task: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const started = performance.now();
  const value = await task();
  return { ms: performance.now() - started, value };
}

/** Evenly spread values from `low` to `high` inclusive. */
export function spread(count: number, low: number, high: number): number[] {
  if (count === 1) return [low];
  return Array.from({ length: count }, (_, index) => low + ((high - low) * index) / (count - 1));
}
