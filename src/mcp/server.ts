import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import type { ServerNotification, ServerRequest, CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { TaskStore } from '@modelcontextprotocol/sdk/experimental/tasks/interfaces.js';
import type { Capability } from '../catalog/capability.js';
import { inputShapeOf, toolOutputSchema } from '../catalog/schemas.js';
import type { Catalog } from '../catalog/lookup.js';
import type { CallPipeline } from '../call.js';
import type { ProviderRegistry } from '../providers/index.js';
import type { Progress } from '../providers/provider.js';
import type { PaymentCredentials } from '../payments/index.js';
import { toAppError } from '../errors.js';
import { errorResult, successResult } from './tool-result.js';
import { describeTool } from './describe.js';
import { PRODUCT_NAME, PRODUCT_VERSION } from '../version.js';

type Extra = RequestHandlerExtra<ServerRequest, ServerNotification>;

export interface McpDependencies {
  catalog: Catalog;
  pipeline: CallPipeline;
  providers: ProviderRegistry;
  taskStore: TaskStore;
}

/** How long a finished task's result stays fetchable, and how often task-aware clients should poll. */
const TASK_TTL_MS = 60 * 60 * 1000;
const TASK_POLL_MS = 100;

function splitPayment(args: Record<string, unknown>, extra: Extra): { params: Record<string, unknown>; payment: PaymentCredentials } {
  const { paymentToken, ...params } = args;
  const x402 = extra._meta?.['x402/payment'];
  return { params, payment: { token: typeof paymentToken === 'string' ? paymentToken : undefined, x402 } };
}

function progressSender(extra: Extra): ((progress: Progress) => void) | undefined {
  const progressToken = extra._meta?.progressToken;
  if (progressToken === undefined) return undefined;
  return (progress) => {
    void extra
      .sendNotification({ method: 'notifications/progress', params: { progressToken, ...progress } })
      .catch(() => undefined);
  };
}

async function runTool(pipeline: CallPipeline, capability: Capability, args: Record<string, unknown>, extra: Extra, signal?: AbortSignal): Promise<CallToolResult> {
  const { params, payment } = splitPayment(args, extra);
  try {
    const idempotencyKey = extra._meta?.['idempotency-key'];
    const outcome = await pipeline({
      tool: capability.serviceId,
      arguments: params,
      transport: 'mcp',
      payment,
      onProgress: progressSender(extra),
      signal: signal ?? extra.signal,
      ...(typeof idempotencyKey === 'string' ? { idempotencyKey } : {}),
    });
    return successResult(outcome);
  } catch (error) {
    return errorResult(toAppError(error), capability);
  }
}

/**
 * Asynchronous Actions are MCP tasks too: a task-aware client gets a task it can poll, fetch and cancel (wrapping
 * the Alibaba job); other clients are answered by the SDK's automatic polling of the same task.
 */
function registerTaskTool(server: McpServer, capability: Capability, pipeline: CallPipeline, providers: ProviderRegistry): void {
  const { name, config } = describeTool(capability, providers);
  server.experimental.tasks.registerToolTask(
    name,
    { ...config, inputSchema: inputShapeOf(capability), outputSchema: toolOutputSchema, execution: { taskSupport: 'optional' } },
    {
      async createTask(args, extra) {
        const task = await extra.taskStore.createTask({ ttl: TASK_TTL_MS, pollInterval: TASK_POLL_MS });
        const cancellation = new AbortController();
        const watcher = setInterval(() => {
          extra.taskStore.getTask(task.taskId).then(
            (current) => current?.status === 'cancelled' && cancellation.abort(new Error('task cancelled')),
            () => undefined,
          );
        }, 500);
        void runTool(pipeline, capability, args as Record<string, unknown>, extra, cancellation.signal)
          .then((result) => extra.taskStore.storeTaskResult(task.taskId, result.isError ? 'failed' : 'completed', result))
          .catch(() => undefined)
          .finally(() => clearInterval(watcher));
        return { task };
      },
      getTask: async (_args, extra) => extra.taskStore.getTask(extra.taskId),
      getTaskResult: async (_args, extra) => (await extra.taskStore.getTaskResult(extra.taskId)) as CallToolResult,
    },
  );
}

/** An McpServer whose tools are the catalog: one registration path for every capability, no per-tool code. */
export function createMcpServer(dependencies: McpDependencies): McpServer {
  const { catalog, pipeline, providers, taskStore } = dependencies;
  const server = new McpServer(
    { name: PRODUCT_NAME, version: PRODUCT_VERSION, title: 'Image segmentation (Alibaba imageseg)' },
    {
      capabilities: { tools: {}, tasks: { requests: { tools: { call: {} } }, list: {}, cancel: {} } },
      taskStore,
      instructions:
        'Image segmentation tools: background removal, people/face/hair/sky/product/... segmentation and mask refinement. ' +
        'Pass images as http(s) URLs, data: URLs or base64. Paid tools answer an unpaid call with payment instructions; ' +
        'retry with the paymentToken argument or an x402 PaymentPayload in _meta["x402/payment"]. Asynchronous tools report progress and can run as tasks; async_job_result resumes a job.',
    },
  );
  for (const capability of catalog.capabilities) {
    if (capability.async !== 'never') {
      registerTaskTool(server, capability, pipeline, providers);
      continue;
    }
    const { name, config } = describeTool(capability, providers);
    server.registerTool(name, { ...config, inputSchema: inputShapeOf(capability), outputSchema: toolOutputSchema }, (args, extra) =>
      runTool(pipeline, capability, args as Record<string, unknown>, extra),
    );
  }
  return server;
}
