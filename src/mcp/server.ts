import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import type { ServerNotification, ServerRequest, CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { Capability } from '../catalog/capability.js';
import { inputShapeOf, toolOutputSchema } from '../catalog/schemas.js';
import { mcpDiscoveryOf } from '../catalog/bazaar.js';
import { exampleArguments, exampleOutput } from '../catalog/examples.js';
import type { Catalog } from '../catalog/lookup.js';
import type { Config } from '../config.js';
import type { CallPipeline } from '../call.js';
import type { BatchRunner } from '../batch.js';
import { registerBatchTool } from './batch-tool.js';
import type { ProviderRegistry } from '../providers/index.js';
import type { Progress } from '../providers/provider.js';
import { credentialsFromMcp, isRefusal, type Identify, type PaymentCredentials } from '../payments/index.js';
import { localCaller, type CallerTaskStore, type TaskCaller, type TaskService } from '../tasks/index.js';
import { toAppError } from '../errors.js';
import { errorResult, successResult } from './tool-result.js';
import { describeTool, type Listing } from './describe.js';
import { sharedJsonSchemaValidator, toolInputSchema } from './tool-schemas.js';
import { PRODUCT_NAME, PRODUCT_VERSION } from '../version.js';

type Extra = RequestHandlerExtra<ServerRequest, ServerNotification>;

export interface McpDependencies {
  catalog: Catalog;
  pipeline: CallPipeline;
  /** batch_segmentation; absent: no batch tool. */
  batch?: BatchRunner;
  providers: ProviderRegistry;
  tasks: TaskService;
  /** Who pays for a task: its owner. */
  payments: { identify: Identify };
  /** PAYMENTS=off: no paymentToken argument and no price text; listAllTools: list tools no provider here can serve. */
  config: Pick<Config, 'payments' | 'listAllTools' | 'transport'>;
  /** Over HTTP: what the /mcp request presented. Absent over stdio, where the one client owns what it creates. */
  caller?: McpCaller;
}

/** Credentials an HTTP /mcp request carries in headers, whatever JSON-RPC messages it holds. */
export interface McpCaller {
  /** X-Payment-Token: pays tool calls without a paymentToken argument, and shows the tasks it paid for. */
  paymentToken?: string;
  /** PAYMENT-SIGNATURE / X-PAYMENT: shows the tasks this x402 payment paid for (it pays nothing again). */
  x402?: string;
  /** The client's address: tells apart anonymous callers' cancellations. */
  address?: string;
  /** Who these headers prove the caller is (`callerOf`). */
  identity: TaskCaller;
}

/** How long a finished task's result stays fetchable, and how often task-aware clients should poll. */
const TASK_TTL_MS = 60 * 60 * 1000;
const TASK_POLL_MS = 100;

function splitPayment(args: Record<string, unknown>, extra: Extra, caller: McpCaller | undefined): { params: Record<string, unknown>; payment: PaymentCredentials } {
  const { paymentToken, ...params } = args;
  return { params, payment: credentialsFromMcp(paymentToken, extra._meta, caller?.paymentToken) };
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

async function runTool(pipeline: CallPipeline, capability: Capability, request: { params: Record<string, unknown>; payment: PaymentCredentials }, extra: Extra, signal?: AbortSignal): Promise<CallToolResult> {
  const { params, payment } = request;
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
    const discovery = () => mcpDiscoveryOf({ name: capability.tool, description: capability.summary, inputShape: inputShapeOf(capability), example: exampleArguments(capability), output: exampleOutput(capability) });
    return errorResult(toAppError(error), capability, discovery);
  }
}

interface TaskToolScope {
  listing: Listing;
  pipeline: CallPipeline;
  providers: ProviderRegistry;
  tasks: TaskService;
  identify: Identify;
  taskStore: CallerTaskStore;
  caller?: McpCaller;
  callerIdentity: TaskCaller;
}

/**
 * Asynchronous Actions are MCP tasks too: a task-aware client gets a task it can poll, fetch and cancel (wrapping
 * the Alibaba job); other clients are answered through the same task, handed to the SDK once it ended. The task belongs to
 * the credential that pays for it. Its run stops on tasks/cancel and, for a plain call, when the request is
 * cancelled (notifications/cancelled) or its connection closes; a task-aware client's task outlives its request.
 */
function registerTaskTool(server: McpServer, capability: Capability, scope: TaskToolScope): void {
  const { name, config } = describeTool(capability, scope.providers, scope.listing);
  const { pipeline, tasks, taskStore, caller, identify } = scope;
  server.experimental.tasks.registerToolTask(
    name,
    { ...config, inputSchema: toolInputSchema(capability, scope.listing), outputSchema: toolOutputSchema, execution: { taskSupport: 'optional' } },
    {
      async createTask(args, extra) {
        const request = splitPayment(args as Record<string, unknown>, extra, caller);
        // A payload that proves nobody owns nothing; its call is refused with the reason when it runs.
        const owner = await identify(request.payment);
        const task = await extra.taskStore.createTask({ ttl: TASK_TTL_MS, pollInterval: TASK_POLL_MS, ...(typeof owner === 'string' && !isRefusal(owner) ? { context: { owner } } : {}) });
        const run = new AbortController();
        const stops = [tasks.watchRun(task.taskId, run)];
        if (!taskStore.outlivesRequest(task.taskId)) {
          const abort = () => run.abort(extra.signal.reason ?? new Error('request cancelled'));
          if (extra.signal.aborted) abort();
          else extra.signal.addEventListener('abort', abort, { once: true });
          stops.push(() => extra.signal.removeEventListener('abort', abort));
          // Over stateless HTTP the cancellation comes on another POST, to another McpServer.
          if (caller) stops.push(tasks.trackCall(scope.callerIdentity.key, extra.requestId, run));
        }
        const finished = runTool(pipeline, capability, request, extra, run.signal)
          .then(async (result) => {
            if (result.isError && run.signal.aborted) {
              await taskStore.updateTaskStatus(task.taskId, 'cancelled', 'Cancelled before it finished; nothing was charged').catch(() => undefined);
            }
            await extra.taskStore.storeTaskResult(task.taskId, result.isError ? 'failed' : 'completed', result);
          })
          .catch(() => undefined)
          .finally(() => stops.forEach((stop) => stop()));
        if (taskStore.outlivesRequest(task.taskId)) return { task };
        // A plain call: the SDK answers it once the task it gets back has ended, so hand it back ended rather
        // than have it poll the task every TASK_POLL_MS.
        await finished;
        return { task: (await extra.taskStore.getTask(task.taskId)) ?? task };
      },
      getTask: async (_args, extra) => extra.taskStore.getTask(extra.taskId),
      getTaskResult: async (_args, extra) => (await extra.taskStore.getTaskResult(extra.taskId)) as CallToolResult,
    },
  );
}

/**
 * An McpServer whose tools are the catalog, registered from the descriptors with no per-tool code: tools that can run
 * asynchronously as task tools (registerTaskTool), the others as plain tools; plus batch_segmentation when there is a batch runner.
 */
export function createMcpServer(dependencies: McpDependencies): McpServer {
  const { catalog, pipeline, batch, providers, tasks, caller } = dependencies;
  const listing: Listing = { payments: dependencies.config.payments !== 'off', overStdio: dependencies.config.transport === 'stdio' };
  const callerIdentity = caller?.identity ?? localCaller();
  const taskStore = tasks.storeFor(callerIdentity);
  const server = new McpServer(
    { name: PRODUCT_NAME, version: PRODUCT_VERSION, title: 'Image segmentation (Alibaba imageseg)' },
    {
      capabilities: { tools: {}, tasks: { requests: { tools: { call: {} } }, list: {}, cancel: {} } },
      taskStore,
      jsonSchemaValidator: sharedJsonSchemaValidator,
      instructions:
        'Image segmentation tools: background removal, people/face/hair/sky/product/... segmentation and mask refinement. ' +
        `Pass images as http(s) URLs, data: URLs or base64${listing.overStdio ? ', or local file paths' : ''}. ` +
        (listing.payments
          ? 'Paid tools answer an unpaid call with payment instructions; retry with the paymentToken argument (or the X-Payment-Token header over HTTP) or an x402 PaymentPayload in _meta["x402/payment"]. '
          : '') +
        'Asynchronous tools wait for their job and return the image (with progress), or run as tasks; async_job_result picks up a job that outlived the deadline.',
    },
  );
  const listed = catalog.capabilities.filter((capability) => dependencies.config.listAllTools || providers.available(capability));
  for (const capability of listed) {
    if (capability.async !== 'never') {
      registerTaskTool(server, capability, { listing, pipeline, providers, tasks, identify: dependencies.payments.identify, taskStore, caller, callerIdentity });
      continue;
    }
    const { name, config } = describeTool(capability, providers, listing);
    server.registerTool(name, { ...config, inputSchema: toolInputSchema(capability, listing), outputSchema: toolOutputSchema }, (args, extra) =>
      runTool(pipeline, capability, splitPayment(args, extra, caller), extra),
    );
  }
  if (batch) registerBatchTool(server, catalog, batch, { paid: listing.payments, ...(caller?.paymentToken ? { headerToken: caller.paymentToken } : {}) });
  return server;
}
