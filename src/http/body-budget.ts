import { AppError } from '../errors.js';
import { describeBytes } from '../fetch/sizes.js';

/** A body holds its place only while it arrives and is parsed, so room comes back within about that long. */
const BUSY_RETRY_SECONDS = 2;

/** One body's share of the budget: it grows as the body arrives and is given back once, when the body is done. */
export interface BodyLease {
  /** Holds `bytes` in all for this body (never less than it held); false, holding no more, when the budget lacks room. */
  hold(bytes: number): boolean;
  release(): void;
}

/** The bytes of request bodies being read and parsed across the process (IMAGESEG_BODY_BUDGET_BYTES). */
export interface BodyBudget {
  readonly totalBytes: number;
  lease(): BodyLease;
}

export function createBodyBudget(totalBytes: number): BodyBudget {
  let inFlight = 0;
  return {
    totalBytes,
    lease() {
      let held = 0;
      return {
        hold(bytes) {
          if (bytes <= held) return true;
          if (inFlight + bytes - held > totalBytes) return false;
          inFlight += bytes - held;
          held = bytes;
          return true;
        },
        release() {
          inFlight -= held;
          held = 0;
        },
      };
    },
  };
}

/** Runs `work` with a lease on the budget, given back however it ends. */
export async function withLease<T>(budget: BodyBudget, work: (lease: BodyLease) => Promise<T>): Promise<T> {
  const lease = budget.lease();
  try {
    return await work(lease);
  } finally {
    lease.release();
  }
}

export function serverBusy(budget: BodyBudget): AppError {
  return new AppError('SERVER_BUSY', `The server is already reading as many request bodies as its memory budget for them (${describeBytes(budget.totalBytes)}) allows; retry in ${BUSY_RETRY_SECONDS} s`, {
    retryable: true,
    retryAfterSeconds: BUSY_RETRY_SECONDS,
    details: { budgetBytes: budget.totalBytes },
  });
}
