import type { Metrics } from '../metrics.js';
import type { Progress } from '../providers/provider.js';

export interface ProviderRunObserver {
  /** Passes progress on to the caller; a job's progress counts its GetAsyncJobResult polls. */
  onProgress?: (progress: Progress) => void;
  onJobSubmitted: () => void;
  /** The provider answered (`ok`) or failed (its error code): latency, and polls when it was a job. */
  finish(outcome: string): void;
}

/** Times one provider run by provider and Action, and counts the polls of the asynchronous job it submitted. */
export function observeProviderRun(metrics: Metrics | undefined, provider: string, action: string, onProgress?: (progress: Progress) => void): ProviderRunObserver {
  const startedAt = performance.now();
  let submitted = false;
  let polls = 0;
  let finished = false;
  return {
    onProgress:
      metrics || onProgress
        ? (progress) => {
            if (submitted) polls = Math.max(polls, progress.progress);
            onProgress?.(progress);
          }
        : undefined,
    onJobSubmitted: () => void (submitted = true),
    finish(outcome) {
      if (finished || !metrics) return;
      finished = true;
      metrics.recordProviderRun({ provider, action, outcome }, (performance.now() - startedAt) / 1000);
      if (submitted) metrics.recordJobPolls(action, polls);
    },
  };
}
