import type { Logger } from '../logger.js';

/** Tries of a write that follows the payment's end, and the pause before each retry. */
const RETRY_PAUSES_MS = [0, 50, 250];

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Bookkeeping once the money is settled (the answer's receipt, a job's close): retried, and if it still fails,
 * logged with what the operator needs, never thrown. A charged caller gets its answer, which the idempotency record
 * written before the commit replays; a job row left open is answered as such by the next read and swept.
 */
export async function afterSettling(logger: Logger, what: { step: string; tool: string; requestId: string; jobId?: string }, write: () => Promise<unknown>): Promise<void> {
  let last: unknown;
  for (const pause of RETRY_PAUSES_MS) {
    if (pause) await sleep(pause);
    try {
      await write();
      return;
    } catch (error) {
      last = error;
    }
  }
  logger.error({ ...what, err: last instanceof Error ? last.message : String(last) }, 'a write after the payment was settled failed; the caller has its answer and was charged at most once');
}
