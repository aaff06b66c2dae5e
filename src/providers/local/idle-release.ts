/**
 * Something expensive to hold (a model session) loaded on first use and released `idleMs` after its last use, so
 * an idle server gives its memory back; the next use loads it again. Uses share one load; a failed load is tried
 * again by the next use.
 */
export interface IdleReleased<T> {
  use<R>(work: (loaded: T) => Promise<R>): Promise<R>;
  /** Releases it now (found broken); the next use loads it again. */
  release(): Promise<void>;
}

export function releasedWhenIdle<T>(options: {
  load: () => Promise<T>;
  unload: (loaded: T) => Promise<void>;
  idleMs: number;
  /** False when what was loaded has gone meanwhile (a process that died): it is loaded again before use. */
  usable?: (loaded: T) => boolean;
}): IdleReleased<T> {
  let loading: Promise<T> | null = null;
  let users = 0;
  let timer: NodeJS.Timeout | undefined;

  const release = async () => {
    clearTimeout(timer);
    const current = loading;
    loading = null;
    const loaded = await current?.catch(() => null);
    if (loaded) await options.unload(loaded);
  };

  const load = () => {
    if (loading) return loading;
    const attempt = options.load();
    loading = attempt;
    attempt.catch(() => {
      if (loading === attempt) loading = null;
    });
    return attempt;
  };

  return {
    async use(work) {
      clearTimeout(timer);
      users += 1;
      try {
        let loaded = await load();
        if (options.usable && !options.usable(loaded)) {
          await release();
          loaded = await load();
        }
        return await work(loaded);
      } finally {
        users -= 1;
        if (users === 0 && loading) timer = setTimeout(() => void release().catch(() => undefined), options.idleMs).unref();
      }
    },
    release,
  };
}
