import type { Reservation } from './index.js';

/**
 * The items of one batch reserve through it: an item that succeeds does not commit its use at once but when the
 * whole batch answer is ready, so a batch whose caller went away is charged nothing.
 */
export interface BatchHold {
  defer(reservation: Reservation): Reservation;
}

export interface CollectingBatchHold extends BatchHold {
  commitAll(): Promise<void>;
  releaseAll(): Promise<void>;
}

export function createBatchHold(): CollectingBatchHold {
  const succeeded: Reservation[] = [];
  return {
    defer(reservation) {
      return {
        commit: async () => {
          succeeded.push(reservation);
          return {};
        },
        release: () => reservation.release(),
        keep: (until) => reservation.keep(until),
      };
    },
    async commitAll() {
      for (const reservation of succeeded.splice(0)) await reservation.commit();
    },
    async releaseAll() {
      await Promise.all(succeeded.splice(0).map((reservation) => reservation.release()));
    },
  };
}
