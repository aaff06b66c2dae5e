import type { Task } from '@modelcontextprotocol/sdk/types.js';

/** One MCP task as the database keeps it. Times are milliseconds since the epoch. */
export interface TaskRow {
  taskId: string;
  /** Who paid for the task (`token:<sha256>`, `x402:<verified payer address>`); null for a free call. */
  owner: string | null;
  /** The MCP connection that created it: one POST over stateless HTTP, the whole process over stdio. */
  session: string;
  status: Task['status'];
  statusMessage: string | null;
  ttlMs: number | null;
  pollIntervalMs: number;
  /** The CallToolResult as JSON, once there is one. */
  result: string | null;
  createdAt: number;
  updatedAt: number;
  /** null: kept until deleted by hand (ttl null). */
  expiresAt: number | null;
}

export interface TaskChange {
  status: Task['status'];
  statusMessage?: string;
  result?: string;
  now: number;
  expiresAt: number | null;
}

/** Which tasks a caller may list: the ones its credentials paid for, and the ones its own connection created. */
export interface TaskListFilter {
  owners: string[];
  session: string;
  /** Resume after this (createdAt, taskId), the previous page's last task. */
  after?: { createdAt: number; taskId: string };
  limit: number;
  now: number;
}

/**
 * The tasks table. Every method is one atomic step, so SQLite (one file, several processes) and PostgreSQL
 * (replicas) serve the same rules; expired rows are invisible before they are deleted.
 */
export interface TaskRecords {
  insert(row: TaskRow): Promise<void>;
  find(taskId: string, now: number): Promise<TaskRow | undefined>;
  /** Changes a task that has not ended yet; false when it has ended (or is gone). */
  update(taskId: string, change: TaskChange): Promise<boolean>;
  /**
   * The result of a run that ended after its task was cancelled: kept beside the cancelled status, or, with
   * `completedAs`, the task becomes `completed` with that status message (the run finished, and was charged, before
   * the cancel reached it). false when the task is not cancelled or already has a result.
   */
  attachResult(taskId: string, result: string, now: number, completedAs?: string): Promise<boolean>;
  list(filter: TaskListFilter): Promise<TaskRow[]>;
  /** Deletes the tasks expired at `now`: how many. */
  deleteExpired(now: number): Promise<number>;
  /** Every row kept, expired ones not yet deleted included. */
  count(): Promise<number>;
  close(): Promise<void>;
}

/** A row as the database driver hands it (PostgreSQL BIGINTs arrive as strings). */
export interface TaskColumns {
  task_id: string;
  owner: string | null;
  session: string;
  status: TaskRow['status'];
  status_message: string | null;
  ttl_ms: number | string | null;
  poll_interval_ms: number;
  result: string | null;
  created_at: number | string;
  updated_at: number | string;
  expires_at: number | string | null;
}

export const fromRow = (row: TaskColumns): TaskRow => ({
  taskId: row.task_id,
  owner: row.owner,
  session: row.session,
  status: row.status,
  statusMessage: row.status_message,
  ttlMs: row.ttl_ms === null ? null : Number(row.ttl_ms),
  pollIntervalMs: Number(row.poll_interval_ms),
  result: row.result,
  createdAt: Number(row.created_at),
  updatedAt: Number(row.updated_at),
  expiresAt: row.expires_at === null ? null : Number(row.expires_at),
});


/** The tasks table, for both dialects; only the integer type differs. */
export function tasksSchema(dialect: 'sqlite' | 'postgres'): string {
  const bigint = dialect === 'sqlite' ? 'INTEGER' : 'BIGINT';
  return `
CREATE TABLE IF NOT EXISTS mcp_tasks (
  task_id          TEXT PRIMARY KEY,
  owner            TEXT,
  session          TEXT NOT NULL,
  status           TEXT NOT NULL CHECK (status IN ('working', 'input_required', 'completed', 'failed', 'cancelled')),
  status_message   TEXT,
  ttl_ms           ${bigint},
  poll_interval_ms INTEGER NOT NULL,
  result           TEXT,
  created_at       ${bigint} NOT NULL,
  updated_at       ${bigint} NOT NULL,
  expires_at       ${bigint}
);
CREATE INDEX IF NOT EXISTS mcp_tasks_owner ON mcp_tasks(owner, created_at, task_id);
CREATE INDEX IF NOT EXISTS mcp_tasks_session ON mcp_tasks(session, created_at, task_id);
CREATE INDEX IF NOT EXISTS mcp_tasks_expiry ON mcp_tasks(expires_at);
`;
}
