import { randomBytes } from 'node:crypto';
import { isTerminal, type CreateTaskOptions, type TaskStore } from '@modelcontextprotocol/sdk/experimental/tasks/interfaces.js';
import type { Request, RequestId, Result, Task } from '@modelcontextprotocol/sdk/types.js';
import { isRefusal, type Identify, type PaymentCredentials } from '../payments/index.js';
import type { TaskRecords, TaskRow } from './records.js';

/** Who is asking, as far as tasks care. */
export interface TaskCaller {
  /** Who the credentials presented with the request prove the caller is (`token:<hash>`, `x402:<address>`). */
  owners: string[];
  /** Whose notifications/cancelled may stop this caller's plain calls when it arrives on another HTTP request. */
  key: string;
  /** Why an x402 payload presented proves nobody: said where a task is then not found. */
  refused?: string;
}

/** Nobody in particular: stdio's one client, or an HTTP request that presented nothing. */
export const localCaller = (address?: string): TaskCaller => ({ owners: [], key: `address:${address ?? 'local'}` });

/**
 * What an MCP request presented: X-Payment-Token, PAYMENT-SIGNATURE / X-PAYMENT, and where it came from. An x402
 * payload shows its payer's tasks only when never presented before, so a settled one (public on-chain) opens nothing.
 */
export async function callerOf(identify: Identify, credentials: PaymentCredentials, address?: string): Promise<TaskCaller> {
  const owners: string[] = [];
  let refused: string | undefined;
  const token = await identify({ token: credentials.token });
  if (typeof token === 'string') owners.push(token);
  const payer = await identify({ x402: credentials.x402 }, { fresh: true });
  if (typeof payer === 'string') owners.push(payer);
  else if (isRefusal(payer)) refused = `the x402 payment header shows nobody's tasks (${payer.reason}): ${payer.message}`;
  if (owners.length === 0) return { ...localCaller(address), ...(refused ? { refused } : {}) };
  return { owners, key: [...owners].sort().join(' '), ...(refused ? { refused } : {}) };
}

/** The SDK's TaskStore as one caller sees it: its own tasks only, others' answered like unknown ids. */
export interface CallerTaskStore extends TaskStore {
  /**
   * Whether the tools/call that created the task asked for a task (`params.task`): then the task outlives its
   * request. A plain call is answered by the SDK polling the task, so the task is the request's own.
   */
  outlivesRequest(taskId: string): boolean;
}

export interface TaskService {
  /**
   * One view per MCP connection: one POST over stateless HTTP, the whole process over stdio. A task is visible to
   * the credential that paid for it and to the connection that created it; a free task (no credential) is
   * reachable by its unguessable id but listed only to the connection that created it.
   */
  storeFor(caller: Pick<TaskCaller, 'owners' | 'refused'>): CallerTaskStore;
  /** A run of this process: tasks/cancel here aborts it at once; a cancel stored by another replica is polled. */
  watchRun(taskId: string, run: AbortController): () => void;
  /** A plain call in flight, by caller and JSON-RPC id, for a notifications/cancelled that comes on another POST. */
  trackCall(callerKey: string, requestId: RequestId, run: AbortController): () => void;
  /** false when no such call is running here. */
  cancelCall(callerKey: string, requestId: RequestId, reason?: string): boolean;
  close(): Promise<void>;
}

export interface TaskServiceOptions {
  open: () => Promise<TaskRecords>;
  now?: () => number;
  /** How often a run looks for a cancel made on another replica. */
  watchMs?: number;
  /** The longest a task is kept; a client's ttl is capped to it, and a task without one gets it. */
  maxTtlMs?: number;
}

const PAGE_SIZE = 50;
const notFound = (taskId: string, refused?: string) => new Error(`Task with ID ${taskId} not found${refused ? `; ${refused}` : ''}`);

/** 128 random bits: a task id is the only thing between a free task's result and anyone else. */
export const newTaskId = () => randomBytes(16).toString('base64url');

function toTask(row: TaskRow): Task {
  return {
    taskId: row.taskId,
    status: row.status,
    ttl: row.ttlMs,
    createdAt: new Date(row.createdAt).toISOString(),
    lastUpdatedAt: new Date(row.updatedAt).toISOString(),
    pollInterval: row.pollIntervalMs,
    ...(row.statusMessage ? { statusMessage: row.statusMessage } : {}),
  };
}

const encodeCursor = (row: TaskRow) => Buffer.from(JSON.stringify([row.createdAt, row.taskId])).toString('base64url');

function decodeCursor(cursor: string): { createdAt: number; taskId: string } {
  try {
    const [createdAt, taskId] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[];
    if (typeof createdAt === 'number' && typeof taskId === 'string') return { createdAt, taskId };
  } catch {
    // answered below
  }
  throw new Error(`Invalid cursor: ${cursor}`);
}

export function createTaskService(options: TaskServiceOptions): TaskService {
  const now = options.now ?? Date.now;
  const watchMs = options.watchMs ?? 500;
  const maxTtlMs = options.maxTtlMs ?? 24 * 3_600_000;
  let opened: Promise<TaskRecords> | undefined;
  let closed = false;
  const records = () =>
    closed
      ? Promise.reject(new Error('the task store is closed'))
      : (opened ??= options.open().catch((error: unknown) => {
          opened = undefined;
          throw error;
        }));
  const runs = new Map<string, AbortController>();
  const calls = new Map<string, Set<AbortController>>();
  const callKey = (callerKey: string, requestId: RequestId) => `${callerKey}\u0000${typeof requestId}:${requestId}`;
  const cancelRun = (taskId: string) => runs.get(taskId)?.abort(new Error('task cancelled'));

  function storeFor(caller: Pick<TaskCaller, 'owners' | 'refused'>): CallerTaskStore {
    const session = randomBytes(16).toString('base64url');
    const outliving = new Map<string, boolean>();
    const visible = (row: TaskRow) => row.owner === null || row.session === session || caller.owners.includes(row.owner);
    async function find(taskId: string): Promise<TaskRow | undefined> {
      const row = await (await records()).find(taskId, now());
      return row && visible(row) ? row : undefined;
    }
    async function findOrThrow(taskId: string): Promise<TaskRow> {
      const row = await find(taskId);
      if (!row) throw notFound(taskId, caller.refused);
      return row;
    }
    const endOfLife = (row: TaskRow, at: number) => (row.ttlMs === null ? null : at + row.ttlMs);

    return {
      outlivesRequest: (taskId) => outliving.get(taskId) ?? false,
      async createTask(taskParams: CreateTaskOptions, _requestId: RequestId, request: Request) {
        const store = await records();
        const at = now();
        const ttlMs = Math.min(taskParams.ttl ?? maxTtlMs, maxTtlMs);
        const owner = taskParams.context?.owner;
        const row: TaskRow = {
          taskId: newTaskId(),
          owner: typeof owner === 'string' ? owner : null,
          session,
          status: 'working',
          statusMessage: null,
          ttlMs,
          pollIntervalMs: taskParams.pollInterval ?? 1000,
          result: null,
          createdAt: at,
          updatedAt: at,
          expiresAt: at + ttlMs,
        };
        await store.insert(row);
        outliving.set(row.taskId, (request.params as { task?: unknown } | undefined)?.task !== undefined);
        return toTask(row);
      },
      async getTask(taskId) {
        const row = await find(taskId);
        return row ? toTask(row) : null;
      },
      async storeTaskResult(taskId, status, result: Result) {
        const row = await findOrThrow(taskId);
        const at = now();
        const json = JSON.stringify(result);
        const store = await records();
        if (await store.update(taskId, { status, result: json, now: at, expiresAt: endOfLife(row, at) })) return;
        // A run cancelled before it stopped still says how it ended: not charged, under the cancelled status; or,
        // when it had already finished (and been paid for), as the completed task the caller is owed.
        const completedAs = status === 'completed' ? 'Finished before the cancel reached it: this result was delivered and charged' : undefined;
        if (await store.attachResult(taskId, json, at, completedAs)) return;
        throw new Error(`Cannot store result for task ${taskId} in terminal status '${row.status}'. Task results can only be stored once.`);
      },
      async getTaskResult(taskId) {
        const row = await findOrThrow(taskId);
        if (row.result === null) throw new Error(`Task ${taskId} has no result stored`);
        return JSON.parse(row.result) as Result;
      },
      async updateTaskStatus(taskId, status, statusMessage) {
        const row = await findOrThrow(taskId);
        const at = now();
        const changed = await (await records()).update(taskId, { status, statusMessage, now: at, expiresAt: isTerminal(status) ? endOfLife(row, at) : row.expiresAt });
        if (!changed) throw new Error(`Cannot update task ${taskId} from terminal status '${row.status}' to '${status}'.`);
        if (status === 'cancelled') cancelRun(taskId);
      },
      async listTasks(cursor) {
        const rows = await (await records()).list({ owners: caller.owners, session, after: cursor ? decodeCursor(cursor) : undefined, limit: PAGE_SIZE + 1, now: now() });
        const page = rows.slice(0, PAGE_SIZE);
        return { tasks: page.map(toTask), ...(rows.length > PAGE_SIZE ? { nextCursor: encodeCursor(page.at(-1)!) } : {}) };
      },
    };
  }

  return {
    storeFor,
    watchRun(taskId, run) {
      runs.set(taskId, run);
      const watcher = setInterval(() => {
        records()
          .then((store) => store.find(taskId, now()))
          .then((row) => row?.status === 'cancelled' && run.abort(new Error('task cancelled')), () => undefined);
      }, watchMs);
      watcher.unref();
      return () => {
        clearInterval(watcher);
        if (runs.get(taskId) === run) runs.delete(taskId);
      };
    },
    trackCall(callerKey, requestId, run) {
      const key = callKey(callerKey, requestId);
      const running = calls.get(key) ?? new Set();
      running.add(run);
      calls.set(key, running);
      return () => {
        running.delete(run);
        if (running.size === 0 && calls.get(key) === running) calls.delete(key);
      };
    },
    cancelCall(callerKey, requestId, reason) {
      const running = calls.get(callKey(callerKey, requestId));
      if (!running) return false;
      for (const run of running) run.abort(new Error(reason ? `request cancelled: ${reason}` : 'request cancelled'));
      return true;
    },
    async close() {
      closed = true;
      for (const run of runs.values()) run.abort(new Error('server closing'));
      const store = opened;
      opened = undefined;
      await (await store?.catch(() => undefined))?.close();
    },
  };
}
