import { openSqliteFile } from '../sqlite-file.js';
import { fromRow, tasksSchema, type TaskListFilter, type TaskRecords, type TaskColumns } from './records.js';

const COLUMNS = 'task_id, owner, session, status, status_message, ttl_ms, poll_interval_ms, result, created_at, updated_at, expires_at';
const LIVE = '(expires_at IS NULL OR expires_at > @now)';
const OPEN = "status NOT IN ('completed', 'failed', 'cancelled')";

/** Tasks in the ledger's SQLite file, through a connection of their own (WAL: processes share the file). */
export function openSqliteTaskRecords(file: string): TaskRecords {
  const db = openSqliteFile(file);
  db.exec(tasksSchema('sqlite'));

  const statements = {
    insert: db.prepare(
      `INSERT INTO mcp_tasks (${COLUMNS}) VALUES (@taskId, @owner, @session, @status, @statusMessage, @ttlMs, @pollIntervalMs, @result, @createdAt, @updatedAt, @expiresAt)`,
    ),
    find: db.prepare<{ taskId: string; now: number }, TaskColumns>(`SELECT ${COLUMNS} FROM mcp_tasks WHERE task_id = @taskId AND ${LIVE}`),
    update: db.prepare(
      `UPDATE mcp_tasks SET status = @status, status_message = COALESCE(@statusMessage, status_message), result = COALESCE(@result, result),
         updated_at = @now, expires_at = @expiresAt WHERE task_id = @taskId AND ${OPEN} AND ${LIVE}`,
    ),
    attach: db.prepare(
      `UPDATE mcp_tasks SET result = @result, updated_at = @now, status = COALESCE(@completedStatus, status), status_message = COALESCE(@completedAs, status_message)
         WHERE task_id = @taskId AND status = 'cancelled' AND result IS NULL AND ${LIVE}`,
    ),
    deleteExpired: db.prepare('DELETE FROM mcp_tasks WHERE expires_at IS NOT NULL AND expires_at <= ?'),
    count: db.prepare<[], { count: number }>('SELECT COUNT(*) AS count FROM mcp_tasks'),
  };

  return {
    async insert(row) {
      statements.insert.run(row);
    },
    async find(taskId, now) {
      const row = statements.find.get({ taskId, now });
      return row && fromRow(row);
    },
    async update(taskId, change) {
      const { status, statusMessage = null, result = null, now, expiresAt } = change;
      return statements.update.run({ taskId, status, statusMessage, result, now, expiresAt }).changes === 1;
    },
    async attachResult(taskId, result, now, completedAs) {
      return statements.attach.run({ taskId, result, now, completedStatus: completedAs === undefined ? null : 'completed', completedAs: completedAs ?? null }).changes === 1;
    },
    async list(filter: TaskListFilter) {
      const owners = filter.owners.map((_, index) => `@owner${index}`);
      const mine = owners.length > 0 ? `(session = @session OR owner IN (${owners.join(', ')}))` : 'session = @session';
      const after = filter.after ? 'AND (created_at > @afterCreatedAt OR (created_at = @afterCreatedAt AND task_id > @afterTaskId))' : '';
      const parameters: Record<string, unknown> = { session: filter.session, now: filter.now, limit: filter.limit };
      filter.owners.forEach((owner, index) => (parameters[`owner${index}`] = owner));
      if (filter.after) Object.assign(parameters, { afterCreatedAt: filter.after.createdAt, afterTaskId: filter.after.taskId });
      const rows = db
        .prepare<Record<string, unknown>, TaskColumns>(`SELECT ${COLUMNS} FROM mcp_tasks WHERE ${mine} AND ${LIVE} ${after} ORDER BY created_at, task_id LIMIT @limit`)
        .all(parameters);
      return rows.map(fromRow);
    },
    async deleteExpired(now) {
      return statements.deleteExpired.run(now).changes;
    },
    async count() {
      return statements.count.get()!.count;
    },
    async close() {
      if (db.open) db.close();
    },
  };
}
