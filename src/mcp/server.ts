import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { Capability } from '../catalog/capability.js';
import { toolOutputSchema } from '../catalog/schemas.js';
import type { Catalog } from '../catalog/lookup.js';
import type { Config } from '../config.js';
import type { CallPipeline } from '../call.js';
import type { BatchRunner } from '../batch.js';
import { registerBatchTool } from './batch-tool.js';
import type { ProviderRegistry } from '../providers/index.js';
import { isRefusal, type Identify } from '../payments/index.js';
import { contextOfLegacyCall } from './call-context.js';
import { runTool, splitPayment } from './run-tool.js';
import { settleTask, TASK_POLL_MS, TASK_TTL_MS } from './task-run.js';
import { localCaller, type CallerTaskStore, type TaskCaller, type TaskService } from '../tasks/index.js';
import { describeTool, serverInstructions, type Listing } from './describe.js';
import { sharedJsonSchemaValidator, toolInputSchema } from './tool-schemas.js';
import { PRODUCT_NAME, PRODUCT_VERSION } from '../version.js';
import type { ResultStore } from '../results/result-store.js';
import { registerResultResources } from './result-resources.js';
import { APPS_EXTENSION, APPS_EXTENSION_SETTINGS } from './result-view.js';

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
  /** Stored results, served as resources (the MCP App view reads them; over stdio so does every client). */
  results: ResultStore;
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

interface TaskToolScope {
  listing: Listing;
  pipeline: CallPipeline;
  providers: ProviderRegistry;
  tasks: TaskService;
  identify: Identify;
  taskStore: CallerTaskStore;
  caller?: McpCaller;
  callerIdentity: TaskCaller;
  /** Whether the client listed the MCP Apps extension at initialize. */
  showsApps: () => boolean;
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
        const context = contextOfLegacyCall(extra, scope.showsApps());
        const request = splitPayment(args as Record<string, unknown>, context, caller?.paymentToken);
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
        const finished = settleTask(taskStore, task.taskId, run, runTool(pipeline, capability, request, context, run.signal), (status, result) => extra.taskStore.storeTaskResult(task.taskId, status, result), stops);
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
      capabilities: { tools: {}, tasks: { requests: { tools: { call: {} } }, list: {}, cancel: {} }, extensions: { [APPS_EXTENSION]: APPS_EXTENSION_SETTINGS } },
      taskStore,
      jsonSchemaValidator: sharedJsonSchemaValidator,
      instructions: serverInstructions(listing),
    },
  );
  const showsApps = () => APPS_EXTENSION in (server.server.getClientCapabilities()?.extensions ?? {});
  const listed = catalog.capabilities.filter((capability) => dependencies.config.listAllTools || providers.available(capability));
  for (const capability of listed) {
    if (capability.async !== 'never') {
      registerTaskTool(server, capability, { listing, pipeline, providers, tasks, identify: dependencies.payments.identify, taskStore, caller, callerIdentity, showsApps });
      continue;
    }
    const { name, config } = describeTool(capability, providers, listing);
    server.registerTool(name, { ...config, inputSchema: toolInputSchema(capability, listing), outputSchema: toolOutputSchema }, (args, extra) => {
      const context = contextOfLegacyCall(extra, showsApps());
      return runTool(pipeline, capability, splitPayment(args, context, caller?.paymentToken), context);
    });
  }
  registerResultResources(server, dependencies.results);
  if (batch) registerBatchTool(server, catalog, batch, { paid: listing.payments, ...(caller?.paymentToken ? { headerToken: caller.paymentToken } : {}) });
  return server;
}
