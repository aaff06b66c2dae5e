import { fromJsonSchema, MissingRequiredClientCapabilityError, ProtocolError, ProtocolErrorCode, type Server, type ServerContext } from '@modelcontextprotocol/server';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { Capability } from '../catalog/capability.js';
import type { CallPipeline } from '../call.js';
import { isRefusal, type Identify } from '../payments/index.js';
import type { CallerTaskStore, TaskService } from '../tasks/index.js';
import type { ToolCallContext } from './call-context.js';
import { clientExtensions } from './client-extensions.js';
import { runTool, type ToolRequest } from './run-tool.js';
import { settleTask, TASK_POLL_MS, TASK_TTL_MS } from './task-run.js';

/** The tasks extension of MCP 2026-07-28: a tools/call may answer a task, polled with tasks/get; tasks/update, tasks/cancel. */
export const TASKS_EXTENSION = 'io.modelcontextprotocol/tasks';

const TERMINAL = new Set(['completed', 'failed', 'cancelled']);

export interface TaskScope {
  capability: Capability;
  pipeline: CallPipeline;
  tasks: TaskService;
  taskStore: CallerTaskStore;
  identify: Identify;
}

const complete = (result: CallToolResult) => ({ ...result, resultType: 'complete' });

/**
 * A call of an asynchronous tool from a client that takes the tasks extension: the task is created in the tasks
 * store (so any replica answers for it), owned by the credential that pays, and the call runs on after the request
 * is answered with it. Money follows the call: committed when the result is stored, released when it fails or is
 * cancelled first.
 */
export async function startTask(scope: TaskScope, request: ToolRequest, context: ToolCallContext): Promise<CallToolResult> {
  const { capability, pipeline, tasks, taskStore, identify } = scope;
  // A payload that proves nobody owns nothing; its call is refused with the reason when it runs.
  const owner = await identify(request.payment);
  // Like a 2025 task-augmented call (`params.task`), the task outlives the request that created it.
  const task = await taskStore.createTask(
    { ttl: TASK_TTL_MS, pollInterval: TASK_POLL_MS, ...(typeof owner === 'string' && !isRefusal(owner) ? { context: { owner } } : {}) },
    0,
    { method: 'tools/call', params: { name: capability.tool, task: {} } },
  );
  const run = new AbortController();
  const { onProgress: _noStreamAfterTheAnswer, ...detached } = context;
  void settleTask(taskStore, task.taskId, run, runTool(pipeline, capability, request, { ...detached, signal: run.signal }), (status, result) => taskStore.storeTaskResult(task.taskId, status, result), [
    tasks.watchRun(task.taskId, run),
  ]);
  return {
    resultType: 'task',
    taskId: task.taskId,
    status: 'working',
    createdAt: task.createdAt,
    lastUpdatedAt: task.lastUpdatedAt,
    ttlMs: task.ttl,
    pollIntervalMs: task.pollInterval,
    content: [],
  };
}

const taskIdParams = fromJsonSchema<{ taskId: string }>({ type: 'object', properties: { taskId: { type: 'string' } }, required: ['taskId'] });
const anyResult = fromJsonSchema<Record<string, unknown>>({ type: 'object' });

/** tasks/get, tasks/update and tasks/cancel over the tasks store, each seeing only the tasks its caller paid for (or made). */
export function registerTaskMethods(server: Server, taskStore: CallerTaskStore): void {
  const findTask = async (taskId: string, ctx: ServerContext) => {
    if (!(TASKS_EXTENSION in clientExtensions(ctx))) {
      throw new MissingRequiredClientCapabilityError({ requiredCapabilities: { extensions: { [TASKS_EXTENSION]: {} } } }, `List the ${TASKS_EXTENSION} extension in this request's client capabilities to use tasks`);
    }
    const task = await taskStore.getTask(taskId);
    if (!task) throw new ProtocolError(ProtocolErrorCode.InvalidParams, `No task ${taskId}: unknown, expired, or not paid for by these credentials`);
    return task;
  };

  server.setRequestHandler('tasks/get', { params: taskIdParams, result: anyResult }, async ({ taskId }, ctx) => {
    const task = await findTask(taskId, ctx);
    const detailed = {
      taskId,
      status: task.status,
      createdAt: task.createdAt,
      lastUpdatedAt: task.lastUpdatedAt,
      ttlMs: task.ttl,
      pollIntervalMs: task.pollInterval,
      ...(task.statusMessage ? { statusMessage: task.statusMessage } : {}),
    };
    // An error result (even a refused payment) is the tool's answer, so its task completed; `failed` is for JSON-RPC errors.
    if (task.status === 'completed' || task.status === 'failed') return { ...detailed, status: 'completed', result: complete((await taskStore.getTaskResult(taskId)) as CallToolResult) };
    return detailed;
  });

  server.setRequestHandler('tasks/cancel', { params: taskIdParams, result: anyResult }, async ({ taskId }, ctx) => {
    const task = await findTask(taskId, ctx);
    // A task that ended meanwhile keeps its end: cancelling is cooperative.
    if (!TERMINAL.has(task.status)) await taskStore.updateTaskStatus(taskId, 'cancelled', 'Cancelled by the client; nothing was charged').catch(() => undefined);
    return {};
  });

  // Only the task id is read: a client without the extension is told so (-32021) whatever else it sent.
  server.setRequestHandler('tasks/update', { params: taskIdParams, result: anyResult }, async ({ taskId }, ctx) => {
    await findTask(taskId, ctx);
    throw new ProtocolError(ProtocolErrorCode.InvalidParams, `Task ${taskId} never asks for input: there is nothing to update`);
  });
}
