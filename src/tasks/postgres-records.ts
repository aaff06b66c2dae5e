import { fromRow, tasksSchema, type TaskColumns, type TaskRecords } from './records.js';
import { createTables, openPool } from '../postgres-pool.js';
import { ADVISORY_LOCKS } from '../advisory-locks.js';
import type { Logger } from '../logger.js';


const COLUMNS = 'task_id, owner, session, status, status_message, ttl_ms, poll_interval_ms, result, created_at, updated_at, expires_at';
const OPEN = "status NOT IN ('completed', 'failed', 'cancelled')";

/** Tasks in PostgreSQL, so every replica answers tasks/get and tasks/result for any task. */
export async function openPostgresTaskRecords(connectionString: string, logger?: Logger): Promise<TaskRecords> {
  const pool = openPool(connectionString, 5, logger);
  await createTables(pool, ADVISORY_LOCKS.tasksSchema, tasksSchema('postgres')).catch(async (error: unknown) => {
    await pool.end().catch(() => undefined);
    throw error;
  });
  // $1 is always "now" in these statements.
  const live = '(expires_at IS NULL OR expires_at > $1)';

  return {
    async insert(row) {
      await pool.query(`INSERT INTO mcp_tasks (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`, [
        row.taskId, row.owner, row.session, row.status, row.statusMessage, row.ttlMs, row.pollIntervalMs, row.result, row.createdAt, row.updatedAt, row.expiresAt,
      ]);
    },
    async find(taskId, now) {
      const row = (await pool.query<TaskColumns>(`SELECT ${COLUMNS} FROM mcp_tasks WHERE task_id = $2 AND ${live}`, [now, taskId])).rows[0];
      return row && fromRow(row);
    },
    async update(taskId, { status, statusMessage = null, result = null, now, expiresAt }) {
      const { rowCount } = await pool.query(
        `UPDATE mcp_tasks SET status = $3, status_message = COALESCE($4, status_message), result = COALESCE($5, result), updated_at = $1, expires_at = $6
         WHERE task_id = $2 AND ${OPEN} AND ${live}`,
        [now, taskId, status, statusMessage, result, expiresAt],
      );
      return rowCount === 1;
    },
    async attachResult(taskId, result, now, completedAs) {
      const { rowCount } = await pool.query(
        `UPDATE mcp_tasks SET result = $3, updated_at = $1, status = COALESCE($4, status), status_message = COALESCE($5, status_message)
           WHERE task_id = $2 AND status = 'cancelled' AND result IS NULL AND ${live}`,
        [now, taskId, result, completedAs === undefined ? null : 'completed', completedAs ?? null],
      );
      return rowCount === 1;
    },
    async list(filter) {
      const values: unknown[] = [filter.now, filter.session, filter.limit];
      const owners = filter.owners.map((owner) => `$${values.push(owner)}`);
      const mine = owners.length > 0 ? `(session = $2 OR owner IN (${owners.join(', ')}))` : 'session = $2';
      let after = '';
      if (filter.after) {
        const createdAt = `$${values.push(filter.after.createdAt)}`;
        const taskId = `$${values.push(filter.after.taskId)}`;
        after = `AND (created_at > ${createdAt} OR (created_at = ${createdAt} AND task_id > ${taskId}))`;
      }
      const { rows } = await pool.query(`SELECT ${COLUMNS} FROM mcp_tasks WHERE ${mine} AND ${live} ${after} ORDER BY created_at, task_id LIMIT $3`, values);
      return rows.map(fromRow);
    },
    async deleteExpired(now) {
      return (await pool.query('DELETE FROM mcp_tasks WHERE expires_at IS NOT NULL AND expires_at <= $1', [now])).rowCount ?? 0;
    },
    async count() {
      return Number((await pool.query<{ count: string }>('SELECT COUNT(*) AS count FROM mcp_tasks')).rows[0].count);
    },
    async close() {
      await pool.end();
    },
  };
}
