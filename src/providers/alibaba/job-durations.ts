/**
 * What one process has seen of each Action's asynchronous jobs: an exponentially weighted mean and spread of
 * their durations, in log space (durations are positive and skewed; a 30 s outlier among 1-5 s jobs moves a log
 * mean little). Weights decay with time, not with arrival order, so a burst of jobs that end shortest first
 * counts evenly. A job is seen done between two polls: it is learned at the middle of that interval (in log
 * space), weighing less the wider the interval, and clipped to a few spreads of the mean.
 */

/** Log-space mean and spread (natural log of milliseconds) of an Action's job durations, and how much they weigh. */
export interface DurationEstimate {
  logMean: number;
  logSpread: number;
  weight: number;
}

export interface DurationLearner {
  /** A job of `action` that succeeded after `afterMs` (the last poll that saw it running; 0: none) and by `byMs`. */
  observe(action: string, afterMs: number, byMs: number): void;
  /** undefined until enough recent jobs were seen: then the schedule falls back to its prior. */
  estimate(action: string): DurationEstimate | undefined;
}

export interface DurationLearnerOptions {
  now?: () => number;
  /** An observation's weight halves after this long. */
  halfLifeMs?: number;
  /** The most the history weighs against a new observation (a floor under the learning rate, 1 / maxWeight). */
  maxWeight?: number;
  /** The weight below which the estimate is not trusted (default: short of three precisely seen jobs). */
  minWeight?: number;
}

/** The spread assumed around a first observation (a factor of e^0.5 ≈ 1.65 either side). */
const FIRST_SPREAD = 0.5;
/** No Action's durations are taken as tighter than this (a factor of ~1.05 either side). */
const MIN_SPREAD = 0.05;
/** Observations beyond this many spreads from the mean are learned as if they were this far. */
const CLIP_SPREADS = 3;
/** An observation whose interval spans more than this (in log space) weighs less, in proportion. */
const PRECISE_WIDTH = 0.3;

interface State {
  mean: number;
  variance: number;
  weight: number;
  at: number;
}

export function createDurationLearner(options: DurationLearnerOptions = {}): DurationLearner {
  const now = options.now ?? Date.now;
  const halfLifeMs = options.halfLifeMs ?? 30 * 60_000;
  const maxWeight = options.maxWeight ?? 20;
  const minWeight = options.minWeight ?? 2.5;
  const states = new Map<string, State>();
  const decayed = (state: State, at: number) => state.weight * 0.5 ** (Math.max(0, at - state.at) / halfLifeMs);

  return {
    observe(action, afterMs, byMs) {
      const at = now();
      const upper = Math.log(Math.max(1, byMs));
      // Seen done at the first poll: taken as having ended in the second half of the wait.
      const lower = Math.min(upper, afterMs > 0 ? Math.log(afterMs) : upper - Math.LN2);
      const x = (lower + upper) / 2;
      const precision = Math.min(1, PRECISE_WIDTH / Math.max(1e-9, upper - lower));
      const state = states.get(action);
      if (!state) {
        states.set(action, { mean: x, variance: FIRST_SPREAD ** 2, weight: precision, at });
        return;
      }
      const reach = CLIP_SPREADS * Math.max(MIN_SPREAD, Math.sqrt(state.variance));
      const clipped = Math.min(state.mean + reach, Math.max(state.mean - reach, x));
      const history = Math.min(decayed(state, at), maxWeight - precision);
      const weight = history + precision;
      const mean = state.mean + (precision * (clipped - state.mean)) / weight;
      // West's weighted update of the variance.
      const variance = (history * state.variance + precision * (clipped - state.mean) * (clipped - mean)) / weight;
      states.set(action, { mean, variance, weight, at });
    },
    estimate(action) {
      const state = states.get(action);
      if (!state) return undefined;
      const weight = decayed(state, now());
      if (weight < minWeight) return undefined;
      return { logMean: state.mean, logSpread: Math.max(MIN_SPREAD, Math.sqrt(state.variance)), weight };
    },
  };
}
