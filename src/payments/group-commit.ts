/**
 * Group commit, for any database: the ledger writes asked for while a group forms (those of one turn of the event
 * loop, and any that arrive while the group waits for its connection) run in one transaction, each in a savepoint
 * of its own, so they share one commit. A write that fails is rolled back alone and the others keep their results.
 * Every writer gets its own result, or its own error, only once the transaction is committed; when the commit itself
 * fails, every writer of that group gets the error and nothing of it was written. One group forms at a time, and at
 * most `maxRunning` run at once: writes asked for meanwhile wait and form the next, larger group.
 */
export type Outcome = { value: unknown } | { error: unknown };

export interface GroupedWrite<Work> {
  work: Work;
  /** Its group's commit must be on disk before anyone gets a result (money coming in). */
  durable: boolean;
}

/** The database's half: how a group gets its connection and runs in one transaction. */
export interface GroupTransaction<Work, Connection> {
  /** Waits for what a group runs on; writes asked for meanwhile join the group. */
  open(): Connection | Promise<Connection>;
  /** Runs the writes in one transaction: one outcome per write, in their order; throws when it did not commit. Gives the connection back. */
  run(connection: Connection, writes: ReadonlyArray<GroupedWrite<Work>>): Outcome[] | Promise<Outcome[]>;
  /** The most writes one group takes; the rest form the next. */
  maxWrites: number;
  /** The most groups running at once. */
  maxRunning: number;
}

export interface GroupCommit<Work> {
  write<T>(work: Work, options?: { durable?: boolean }): Promise<T>;
  /** Resolves once every write asked for so far has its result (before the connection closes). */
  settled(): Promise<void>;
}

interface Pending<Work> extends GroupedWrite<Work> {
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

export function createGroupCommit<Work, Connection>(transaction: GroupTransaction<Work, Connection>): GroupCommit<Work> {
  const waiting: Array<Pending<Work>> = [];
  const running = new Set<Promise<void>>();
  let forming = false;

  function formNext() {
    if (forming || waiting.length === 0 || running.size >= transaction.maxRunning) return;
    forming = true;
    setImmediate(() => {
      const group = runGroup();
      running.add(group);
      void group.then(() => {
        running.delete(group);
        formNext();
      });
    });
  }

  async function runGroup() {
    let opened: { connection: Connection } | { error: unknown };
    try {
      opened = { connection: await transaction.open() };
    } catch (error) {
      opened = { error };
    }
    const group = waiting.splice(0, transaction.maxWrites);
    forming = false;
    formNext();
    let outcomes: Outcome[];
    try {
      if ('error' in opened) throw opened.error;
      outcomes = await transaction.run(opened.connection, group);
    } catch (error) {
      for (const item of group) item.reject(error);
      return;
    }
    outcomes.forEach((outcome, index) => ('error' in outcome ? group[index].reject(outcome.error) : group[index].resolve(outcome.value)));
  }

  return {
    write<T>(work: Work, options?: { durable?: boolean }) {
      return new Promise<T>((resolve, reject) => {
        waiting.push({ work, durable: options?.durable ?? false, resolve: resolve as (value: unknown) => void, reject });
        formNext();
      });
    },
    async settled() {
      while (waiting.length > 0 || running.size > 0) await Promise.all([...running, new Promise((resolve) => setImmediate(resolve))]);
    },
  };
}
