import type { BatchHold, Reservation } from './types.js';

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
