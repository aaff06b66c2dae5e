/**
 * A small promise queue: at most `concurrency` tasks run at once, the rest wait in arrival order, and at most
 * `maxWaiting` wait: one more is refused with `refuse()`'s error at once, without waiting.
 */
export interface TaskQueue {
  /** Runs `task` when a slot is free; a task whose signal aborts while waiting is dropped without running. */
  run<T>(task: () => Promise<T>, signal?: AbortSignal): Promise<T>;
  /** Tasks running now plus tasks waiting. */
  readonly size: number;
}

export interface TaskQueueOptions {
  concurrency?: number;
  maxWaiting?: number;
  /** The error a task is refused with when `maxWaiting` tasks already wait. */
  refuse?: (waiting: number) => Error;
}

export function createTaskQueue({ concurrency = 1, maxWaiting = Infinity, refuse = () => new Error('queue full') }: TaskQueueOptions = {}): TaskQueue {
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new RangeError('concurrency must be a positive integer');
  let running = 0;
  const waiting: Array<() => void> = [];

  const release = () => {
    running -= 1;
    const next = waiting.shift();
    if (next) next();
  };

  return {
    get size() {
      return running + waiting.length;
    },
    run<T>(task: () => Promise<T>, signal?: AbortSignal): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        const start = () => {
          signal?.removeEventListener('abort', onAbort);
          if (signal?.aborted) {
            reject(signal.reason);
            // The slot was handed to us; pass it on.
            running += 1;
            release();
            return;
          }
          running += 1;
          let result: Promise<T>;
          try {
            result = task();
          } catch (error) {
            result = Promise.reject(error);
          }
          result.then(resolve, reject).finally(release);
        };
        const onAbort = () => {
          const index = waiting.indexOf(start);
          if (index >= 0) {
            waiting.splice(index, 1);
            reject(signal!.reason);
          }
        };
        if (signal?.aborted) return reject(signal.reason);
        if (running < concurrency) return start();
        if (waiting.length >= maxWaiting) return reject(refuse(waiting.length));
        waiting.push(start);
        signal?.addEventListener('abort', onAbort, { once: true });
      });
    },
  };
}
