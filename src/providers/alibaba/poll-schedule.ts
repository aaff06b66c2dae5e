import type { Config } from '../../config.js';
import type { DurationEstimate } from './job-durations.js';

/**
 * When to send the GetAsyncJobResult polls of one job (Alibaba has no completion callback). Without history, the
 * prior: a plain backoff. Once the Action's durations are known, most polls go evenly over the window where its
 * jobs end (the log mean ± 1.5 spreads), the rest between that window and the budget horizon (more while the
 * estimate rests on few jobs), and none before it.
 * Either way the budget holds: at most `budgetPolls` polls for a job of `budgetMs` (poll number `budgetPolls` waits
 * until a little past `budgetMs`), and past that one poll per `maxMs`.
 */
export type PollPolicy = Config['polling'];

/** The window where an Action's jobs end spans its log mean ± this many spreads (about 87% of them, if log-normal). */
const WINDOW_SPREADS = 1.5;
/**
 * Polls between the window's end and the budget horizon, for a job that ends later than most: one once the
 * estimate weighs a lot, up to 1 + EXTRA_TAIL_POLLS while it rests on a few jobs (the first to end are the short ones).
 */
const EXTRA_TAIL_POLLS = 4;
const TRUSTED_WEIGHT = 4;
/** Poll number `budgetPolls` waits this much past `budgetMs`, for a job of `budgetMs` that ends a little late. */
const HORIZON_GRACE = 1.04;

/** Offsets (ms after submission) of the prior's polls: delays growing by `factor` up to `maxMs`. */
function backoffOffsets(policy: PollPolicy): number[] {
  const offsets: number[] = [];
  let delay = policy.initialMs;
  let at = 0;
  while (offsets.length < policy.budgetPolls) {
    at += delay;
    offsets.push(at);
    delay = Math.min(delay * policy.factor, policy.maxMs);
  }
  return offsets;
}

/**
 * Offsets spent on the learned window, evenly and `minGapMs` apart at least (a narrow window widens around its
 * middle to use its polls), then the tail towards the budget horizon.
 */
function learnedOffsets(policy: PollPolicy, estimate: DurationEstimate): number[] {
  const { budgetPolls, budgetMs, minGapMs } = policy;
  const reach = WINDOW_SPREADS * estimate.logSpread;
  const [start, end] = [Math.exp(estimate.logMean - reach), Math.exp(estimate.logMean + reach)];
  const tail = end < budgetMs ? 1 + Math.floor((EXTRA_TAIL_POLLS * TRUSTED_WEIGHT) / (estimate.weight + TRUSTED_WEIGHT)) : 0;
  const count = Math.max(1, budgetPolls - 1 - tail);
  const step = Math.max(minGapMs, (end - start) / Math.max(1, count - 1));
  const first = Math.max(minGapMs, (start + end) / 2 - (step * (count - 1)) / 2);
  const window = Array.from({ length: count }, (_, index) => first + index * step);
  const last = window.at(-1)!;
  const horizon = budgetMs * HORIZON_GRACE;
  const towardsHorizon = last < horizon ? Array.from({ length: tail }, (_, index) => last * (horizon / last) ** ((index + 1) / (tail + 1))) : [];
  return [...window, ...towardsHorizon];
}

/** The offset (ms after submission) of each poll of a job, by its number (1, 2, ...). */
export function pollSchedule(policy: PollPolicy, estimate?: DurationEstimate): (poll: number) => number {
  const { budgetPolls, budgetMs, maxMs } = policy;
  const planned = estimate ? learnedOffsets(policy, estimate) : backoffOffsets(policy);
  const offsets: number[] = [];
  for (let poll = 1; poll <= budgetPolls; poll += 1) {
    const previous = offsets.at(-1) ?? 0;
    const candidate = planned[poll - 1] ?? previous + maxMs;
    offsets.push(Math.max(previous, candidate, poll === budgetPolls ? budgetMs * HORIZON_GRACE : 0));
  }
  const last = offsets[budgetPolls - 1];
  return (poll) => (poll <= budgetPolls ? offsets[Math.max(1, poll) - 1] : last + (poll - budgetPolls) * maxMs);
}
