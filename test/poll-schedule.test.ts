import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { createDurationLearner, type DurationEstimate } from '../src/providers/alibaba/job-durations.js';
import { pollSchedule } from '../src/providers/alibaba/poll-schedule.js';
import { spread } from '../bench/lib/stats.js';

const policy = loadConfig({}).polling;

/** The polls a schedule sends for a job that ends `lengthMs` after submission, the last one seeing it done. */
function pollsFor(offsetOf: (poll: number) => number, lengthMs: number): number[] {
  const offsets: number[] = [];
  for (let poll = 1; offsets.at(-1) === undefined || offsets.at(-1)! < lengthMs; poll += 1) offsets.push(offsetOf(poll));
  return offsets;
}

function learnedFrom(durations: number[]): DurationEstimate {
  const learner = createDurationLearner();
  for (const duration of durations) learner.observe('SegmentHDCommonImage', duration * 0.95, duration * 1.05);
  return learner.estimate('SegmentHDCommonImage')!;
}

describe('the poll schedule', () => {
  it('polls a first job, without history, on the prior backoff, within 12 polls for a 30 s job', () => {
    const offsets = pollsFor(pollSchedule(policy), 30_000);
    expect(offsets.slice(0, 3)).toEqual([350, 350 + 472.5, 350 + 472.5 + 637.875]);
    expect(offsets.length).toBeLessThanOrEqual(12);
  });

  it('never sends more than 12 polls for a 30 s job, nor polls a job more than once per maxMs past that, in any learned state', () => {
    for (let logMean = Math.log(50); logMean <= Math.log(600_000); logMean += 0.25) {
      for (const logSpread of [0.05, 0.1, 0.3, 0.5, 1, 2, 4]) {
        const offsetOf = pollSchedule(policy, { logMean, logSpread, weight: 10 });
        const offsets = pollsFor(offsetOf, 120_000);
        const state = JSON.stringify({ logMean, logSpread });
        expect(offsets.filter((offset) => offset < 30_000).length, state).toBeLessThanOrEqual(11);
        expect(offsets[0], state).toBeGreaterThanOrEqual(policy.minGapMs);
        offsets.slice(1).forEach((offset, index) => expect(offset, state).toBeGreaterThanOrEqual(offsets[index]));
        offsets.slice(12).forEach((offset, index) => expect(offset - offsets[index + 11], state).toBeCloseTo(policy.maxMs, 6));
      }
    }
  });

  it('gathers the polls where the Action\'s jobs end once their durations are learned', () => {
    const estimate = learnedFrom(spread(24, 1_000, 5_000));
    const offsets = pollsFor(pollSchedule(policy, estimate), 30_000);
    expect(offsets.length).toBeLessThanOrEqual(12);
    expect(offsets.filter((offset) => offset >= 1_000 && offset <= 5_500).length).toBeGreaterThanOrEqual(9);
    // The prior spends 4 of its 12 polls there.
    expect(pollsFor(pollSchedule(policy), 30_000).filter((offset) => offset >= 1_000 && offset <= 5_500).length).toBe(4);
  });
});

describe('the durations learned per Action', () => {
  it('trusts no estimate before a few jobs, and keeps Actions apart', () => {
    const learner = createDurationLearner();
    learner.observe('A', 950, 1_050);
    learner.observe('A', 1_150, 1_250);
    expect(learner.estimate('A')).toBeUndefined();
    learner.observe('A', 1_050, 1_150);
    expect(Math.exp(learner.estimate('A')!.logMean)).toBeCloseTo(1_097, -1);
  });

  it('weighs a job seen done after a long wait less than one seen between two close polls', () => {
    const learner = createDurationLearner();
    for (let job = 0; job < 4; job += 1) learner.observe('A', 950, 1_050);
    learner.observe('A', 2_000, 10_000);
    const loose = learner.estimate('A')!;
    learner.observe('A', 2_000, 2_100);
    const close = learner.estimate('A')!;
    expect(close.weight - loose.weight).toBeGreaterThan(5 * (loose.weight - 4));
    expect(close.logMean - loose.logMean).toBeGreaterThan(loose.logMean - Math.log(1_000));
    expect(learner.estimate('B')).toBeUndefined();
  });

  it('moves little for one outlier among many', () => {
    const durations = spread(24, 1_000, 5_000);
    const without = learnedFrom(durations);
    const withOutlier = learnedFrom([...durations, 30_000]);
    expect(Math.exp(withOutlier.logMean) / Math.exp(without.logMean)).toBeLessThan(1.1);
    expect(withOutlier.logSpread / without.logSpread).toBeLessThan(1.3);
  });

  it('forgets with time, back to the prior schedule', () => {
    let now = 0;
    const learner = createDurationLearner({ now: () => now, halfLifeMs: 60_000 });
    for (const duration of [900, 1_000, 1_100, 1_000]) learner.observe('A', duration - 50, duration + 50);
    expect(learner.estimate('A')).toBeDefined();
    now += 3 * 60_000;
    expect(learner.estimate('A')).toBeUndefined();
  });
});
