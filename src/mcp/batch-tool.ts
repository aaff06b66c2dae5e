import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { BATCH_ACTION, MAX_BATCH_ITEMS, type BatchRunner } from '../batch.js';
import type { Catalog } from '../catalog/lookup.js';
import { toolOutputSchema } from '../catalog/schemas.js';
import { toAppError } from '../errors.js';
import { credentialsFromMcp } from '../payments/index.js';
import { errorResult, receiptMeta } from './tool-result.js';
import { contextOfLegacyCall, idempotencyKeyOf, type ToolCallContext } from './call-context.js';
import { schemaOnce } from './tool-schemas.js';
import { batchExample, batchExampleOutput, mcpDiscoveryOf } from '../catalog/bazaar.js';

export const BATCH_TOOL = 'batch_segmentation';

/** `paid`: false under PAYMENTS=off, where no tool takes a paymentToken. */
export function batchInputShape(catalog: Catalog, paid = true) {
  const tools = catalog.capabilities.filter((capability) => !capability.jobResult).map((capability) => capability.tool);
  const shape = {
    tool: z.string().min(1).describe(`The tool every item calls, e.g. ${tools.slice(0, 3).join(', ')} (any tool but async_job_result)`),
    items: z
      .array(z.record(z.string(), z.unknown()))
      .min(1)
      .max(MAX_BATCH_ITEMS)
      .describe(`1 to ${MAX_BATCH_ITEMS} argument objects, one per call, each exactly as that tool takes it${paid ? ' (without paymentToken)' : ''}`),
    paymentToken: z.string().optional().describe('Payment token for that tool: one use per item that succeeds; omit to receive payment instructions for the whole batch'),
  };
  if (paid) return shape;
  const { paymentToken: _paymentToken, ...free } = shape;
  return free;
}

/** The batch tool's input schema, built once per catalog and payment mode (each stateless /mcp POST registers it anew). */
const batchInputSchema = (catalog: Catalog, paid: boolean) => schemaOnce(catalog, paid ? 'paid' : 'free', () => z.object(batchInputShape(catalog, paid)));

const BATCH_WORK =
  `Runs one segmentation tool on up to ${MAX_BATCH_ITEMS} inputs in one call, a few at a time, with a progress notification per item. ` +
  'Answers data.Results: [{index, ok, data | error}].';

export const batchDescription =
  `${BATCH_WORK} Price: the items times the tool price; a payment token pays one use per item that succeeds; ` +
  'an x402 payment (_meta["x402/payment"]) pays the whole batch and the value of failed items comes back as a payment token in data.Credit. Failures are never charged.';

/** The batch tool's listing: the same for both protocol generations. */
export function batchToolConfig(catalog: Catalog, paid: boolean) {
  return {
    title: 'Batch segmentation',
    description: paid ? batchDescription : BATCH_WORK,
    inputSchema: batchInputSchema(catalog, paid),
    outputSchema: toolOutputSchema,
    annotations: { title: 'Batch segmentation', readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
  };
}

/** One batch_segmentation call, answered as an MCP tool result (errors included). */
export async function runBatchTool(catalog: Catalog, batch: BatchRunner, args: { tool: string; items: Array<Record<string, unknown>>; paymentToken?: unknown }, context: ToolCallContext, headerToken?: string): Promise<CallToolResult> {
  try {
    const outcome = await batch({
      tool: args.tool,
      items: args.items,
      transport: 'mcp',
      payment: credentialsFromMcp(args.paymentToken, context.meta, headerToken),
      signal: context.signal,
      ...idempotencyKeyOf(context),
      ...(context.onProgress ? { onProgress: context.onProgress } : {}),
    });
    const content: CallToolResult['content'] = [{ type: 'text', text: JSON.stringify(outcome.output, null, 2) }];
    for (const image of outcome.inline) content.push({ type: 'image', data: image.bytes.toString('base64'), mimeType: image.mimeType });
    return { content, structuredContent: outcome.output, ...receiptMeta(outcome.receipt, context.x402Extension) };
  } catch (error) {
    const capability = catalog.find(args.tool);
    const discovery = capability ? () => mcpDiscoveryOf({ name: BATCH_TOOL, description: batchDescription, inputShape: batchInputShape(catalog), example: batchExample(capability), output: batchExampleOutput(capability) }) : undefined;
    return errorResult(toAppError(error), { action: BATCH_ACTION }, discovery, context.x402Extension);
  }
}

/** The batch tool on a 2025-11-25 server: many calls of one catalog tool through the same pipeline, paid as a whole. */
export function registerBatchTool(server: McpServer, catalog: Catalog, batch: BatchRunner, options: { paid: boolean; headerToken?: string }): void {
  server.registerTool(BATCH_TOOL, batchToolConfig(catalog, options.paid), (args, extra) => runBatchTool(catalog, batch, args, contextOfLegacyCall(extra, false), options.headerToken));
}
