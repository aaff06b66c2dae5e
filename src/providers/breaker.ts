/**
 * A circuit breaker for one provider: `failureThreshold` failed calls in a row open it; while open, calls skip the
 * provider; after `openMs` one call goes through as a probe (others still skip) and its outcome closes or reopens it.
 * A small state machine rather than a library: what we need is "N in a row" and "one probe", not a rolling
 * percentage window, and the call's own signal and timeouts already bound each attempt.
 */
export interface BreakerSettings {
  failureThreshold: number;
  openMs: number;
}

export type BreakerState = 'closed' | 'open' | 'half-open';

export interface CircuitBreaker {
  readonly state: BreakerState;
  /** Whether a call may go to the provider now; true for a probe takes the probe slot. */
  tryAcquire(): boolean;
  /** The provider answered (a result, or a refusal of the user's input): it is healthy. */
  succeeded(): void;
  /** Throttled, failed or silent. */
  failed(): void;
  /** The attempt ended without telling anything (the caller went away): a probe slot is given back. */
  abandoned(): void;
  /** Seconds until a probe is let through, for Retry-After when every provider is open. */
  secondsUntilProbe(): number;
}

export function createCircuitBreaker(settings: BreakerSettings, now: () => number = Date.now): CircuitBreaker {
  let failures = 0;
  let openedAt: number | undefined;
  let probing = false;

  const state = (): BreakerState => {
    if (openedAt === undefined) return 'closed';
    return now() - openedAt >= settings.openMs ? 'half-open' : 'open';
  };

  return {
    get state() {
      return state();
    },
    tryAcquire() {
      const current = state();
      if (current === 'closed') return true;
      if (current === 'open' || probing) return false;
      probing = true;
      return true;
    },
    succeeded() {
      failures = 0;
      openedAt = undefined;
      probing = false;
    },
    failed() {
      failures += 1;
      if (probing || failures >= settings.failureThreshold) openedAt = now();
      probing = false;
    },
    abandoned() {
      probing = false;
    },
    secondsUntilProbe() {
      return openedAt === undefined ? 0 : Math.max(1, Math.ceil((openedAt + settings.openMs - now()) / 1000));
    },
  };
}
