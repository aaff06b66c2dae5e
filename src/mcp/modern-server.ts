import { ProtocolError, ProtocolErrorCode, ResourceNotFoundError, Server, type ServerContext, type Tool } from '@modelcontextprotocol/server';
import type { z } from 'zod';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { Capability } from '../catalog/capability.js';
import type { Catalog } from '../catalog/lookup.js';
import { jsonSchemaOf, toolOutputSchema } from '../catalog/schemas.js';
import type { ProviderRegistry } from '../providers/index.js';
import type { ResultStore } from '../results/result-store.js';
import { localCaller } from '../tasks/index.js';
import { PRODUCT_NAME, PRODUCT_VERSION } from '../version.js';
import { BATCH_TOOL, batchToolConfig, runBatchTool } from './batch-tool.js';
import { toolCallContext, X402_EXTENSION, type ToolCallContext } from './call-context.js';
import { describeTool, serverInstructions, type Listing } from './describe.js';
import { runTool, splitPayment } from './run-tool.js';
import type { McpDependencies } from './server.js';
import { clientExtensions } from './client-extensions.js';
import { TASKS_EXTENSION, registerTaskMethods, startTask } from './modern-tasks.js';
import { toolInputSchema } from './tool-schemas.js';
import { APPS_EXTENSION, APPS_EXTENSION_SETTINGS, readResultView, resultIdOf, RESULT_VIEW_RESOURCE, RESULT_VIEW_URI } from './result-view.js';
import { RESULT_TEMPLATE, storedResultContents } from './result-resources.js';

/** How long a client may keep `tools/list` and the resource lists: the tool set changes only when the server restarts. */
const LIST_TTL_MS = 5 * 60 * 1000;

/** A zod object's JSON Schema, as a tool's input or output schema. */
const objectSchema = (schema: z.ZodType) => jsonSchemaOf(schema) as Tool['inputSchema'];

/** The tools as 2026-07-28 `tools/list` gives them, and the catalog tools among them by name. */
interface ToolTable {
  definitions: Tool[];
  capabilities: Map<string, Capability>;
}

const tables = new WeakMap<Catalog, Map<string, ToolTable>>();

/** The tool table of a catalog for one listing: built once per process (each request builds a server), from the descriptors. */
function toolTable(catalog: Catalog, providers: ProviderRegistry, listing: Listing, listAll: boolean, batch: boolean): ToolTable {
  const variant = `${listing.payments}:${listing.overStdio}:${listAll}:${batch}`;
  let variants = tables.get(catalog);
  if (!variants) tables.set(catalog, (variants = new Map<string, ToolTable>()));
  const known = variants.get(variant);
  if (known) return known;
  const outputSchema = objectSchema(toolOutputSchema);
  const listed = catalog.capabilities.filter((capability) => listAll || providers.available(capability));
  const definitions: Tool[] = listed.map((capability) => {
    const { name, config } = describeTool(capability, providers, listing);
    return { name, ...config, inputSchema: objectSchema(toolInputSchema(capability, listing)), outputSchema };
  });
  if (batch) {
    const { inputSchema, outputSchema: batchOutput, ...config } = batchToolConfig(catalog, listing.payments);
    definitions.push({ name: BATCH_TOOL, ...config, inputSchema: objectSchema(inputSchema), outputSchema: objectSchema(batchOutput) });
  }
  const table = { definitions, capabilities: new Map(listed.map((capability) => [capability.tool, capability])) };
  variants.set(variant, table);
  return table;
}

/** A 2026-07-28 request lists its client's extensions: x402's binding, and whether the host shows Apps (the input preview). */
function callContext(ctx: ServerContext, extensions: Record<string, unknown>, payments: boolean): ToolCallContext {
  return toolCallContext(ctx.mcpReq._meta, ctx.mcpReq.signal, { x402: payments && X402_EXTENSION in extensions, apps: APPS_EXTENSION in extensions }, (notification) => ctx.mcpReq.notify(notification));
}


/**
 * Stored results as resources (`imageseg://local/results/<id>`): every resource_link in an answer resolves with
 * resources/read. And the MCP App view (`ui://imageseg/result`), the one listed resource.
 */
function registerResources(server: Server, results: ResultStore): void {
  server.setRequestHandler('resources/list', () => ({ resources: [RESULT_VIEW_RESOURCE] }));
  server.setRequestHandler('resources/templates/list', () => ({ resourceTemplates: [RESULT_TEMPLATE] }));
  server.setRequestHandler('resources/read', async (request) => {
    const { uri } = request.params;
    if (uri === RESULT_VIEW_URI) return readResultView();
    const id = resultIdOf(uri);
    const read = id === undefined ? undefined : await storedResultContents(results, uri, id);
    if (!read) throw new ResourceNotFoundError(uri);
    return read;
  });
}

/**
 * The MCP 2026-07-28 server: stateless, one per request (HTTP) or connection (stdio), built from the same
 * descriptors, call pipeline, tasks store and payments as the 2025-11-25 one (`server.ts`). Tools are listed and
 * called through the SDK's low-level Server, since a call may answer `resultType: "task"` (the tasks extension) or
 * `"payment_required"` (the x402 extension), which McpServer would take for a result missing its output.
 */
export function createModernServer(dependencies: McpDependencies & { results: ResultStore }): Server {
  const { catalog, pipeline, batch, providers, tasks, caller, results } = dependencies;
  const listing: Listing = { payments: dependencies.config.payments !== 'off', overStdio: dependencies.config.transport === 'stdio' };
  const callerIdentity = caller?.identity ?? localCaller();
  const taskStore = tasks.storeFor(callerIdentity);
  const server = new Server(
    { name: PRODUCT_NAME, version: PRODUCT_VERSION, title: 'Image segmentation (Alibaba imageseg)' },
    {
      capabilities: {
        tools: {},
        resources: {},
        extensions: { [TASKS_EXTENSION]: {}, ...(listing.payments ? { [X402_EXTENSION]: {} } : {}), [APPS_EXTENSION]: APPS_EXTENSION_SETTINGS },
      },
      instructions: serverInstructions(listing),
      cacheHints: {
        'tools/list': { ttlMs: LIST_TTL_MS, cacheScope: 'public' },
        'resources/list': { ttlMs: LIST_TTL_MS, cacheScope: 'public' },
        'resources/templates/list': { ttlMs: LIST_TTL_MS, cacheScope: 'public' },
        // A result image is one payer's.
        'resources/read': { ttlMs: 0, cacheScope: 'private' },
      },
    },
  );
  const tools = toolTable(catalog, providers, listing, dependencies.config.listAllTools, batch !== undefined);
  server.setRequestHandler('tools/list', () => ({ tools: tools.definitions }));
  server.setRequestHandler('tools/call', async (request, ctx): Promise<CallToolResult> => {
    const { name } = request.params;
    const args = (request.params.arguments ?? {}) as Record<string, unknown>;
    const extensions = clientExtensions(ctx);
    const context = callContext(ctx, extensions, listing.payments);
    if (name === BATCH_TOOL && batch) {
      return runBatchTool(catalog, batch, args as Parameters<typeof runBatchTool>[2], context, caller?.paymentToken);
    }
    const capability = tools.capabilities.get(name);
    if (!capability) throw new ProtocolError(ProtocolErrorCode.InvalidParams, `Unknown tool: ${name}; see tools/list`);
    const toolRequest = splitPayment(args, context, caller?.paymentToken);
    if (capability.async !== 'never' && TASKS_EXTENSION in extensions) {
      return startTask({ capability, pipeline, tasks, taskStore, identify: dependencies.payments.identify }, toolRequest, context);
    }
    return runTool(pipeline, capability, toolRequest, context);
  });
  registerTaskMethods(server, taskStore);
  registerResources(server, results);
  return server;
}
