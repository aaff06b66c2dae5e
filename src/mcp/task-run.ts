import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { CallerTaskStore } from '../tasks/index.js';

/** How long a finished task's result stays fetchable, and how often task-aware clients should poll. */
export const TASK_TTL_MS = 60 * 60 * 1000;
export const TASK_POLL_MS = 100;

/**
 * Stores how a task's run ended, for either protocol generation: its tool result (`failed` when it is an error
 * result), under `cancelled` when the run was stopped by a cancel (the error then says nothing was charged).
 * `stops` undo what watched the run.
 */
export function settleTask(
  taskStore: CallerTaskStore,
  taskId: string,
  run: AbortController,
  result: Promise<CallToolResult>,
  storeResult: (status: 'completed' | 'failed', result: CallToolResult) => Promise<void>,
  stops: Array<() => void>,
): Promise<void> {
  return result
    .then(async (ended) => {
      if (ended.isError && run.signal.aborted) {
        await taskStore.updateTaskStatus(taskId, 'cancelled', 'Cancelled before it finished; nothing was charged').catch(() => undefined);
      }
      await storeResult(ended.isError ? 'failed' : 'completed', ended);
    })
    .catch(() => undefined)
    .finally(() => stops.forEach((stop) => stop()));
}
