import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { Capability } from '../catalog/capability.js';
import { inputShapeOf } from '../catalog/schemas.js';
import { mcpDiscoveryOf } from '../catalog/bazaar.js';
import { exampleArguments, exampleOutput } from '../catalog/examples.js';
import type { CallPipeline } from '../call.js';
import { toAppError } from '../errors.js';
import { credentialsFromMcp, type PaymentCredentials } from '../payments/index.js';
import { idempotencyKeyOf, type ToolCallContext } from './call-context.js';
import { errorResult, successResult } from './tool-result.js';

export interface ToolRequest {
  params: Record<string, unknown>;
  payment: PaymentCredentials;
}

/** A tool's arguments without `paymentToken`, and what pays: that argument, the request's `_meta`, or the header token. */
export function splitPayment(args: Record<string, unknown>, context: ToolCallContext, headerToken: string | undefined): ToolRequest {
  const { paymentToken, ...params } = args;
  return { params, payment: credentialsFromMcp(paymentToken, context.meta, headerToken) };
}

/** One catalog tool's call through the call pipeline, answered as an MCP tool result (errors included). */
export async function runTool(pipeline: CallPipeline, capability: Capability, request: ToolRequest, context: ToolCallContext, signal: AbortSignal = context.signal): Promise<CallToolResult> {
  try {
    const outcome = await pipeline({
      tool: capability.serviceId,
      arguments: request.params,
      transport: 'mcp',
      payment: request.payment,
      onProgress: context.onProgress,
      signal,
      inputPreview: context.appView,
      ...idempotencyKeyOf(context),
    });
    return successResult(outcome, context.x402Extension);
  } catch (error) {
    const discovery = () => mcpDiscoveryOf({ name: capability.tool, description: capability.summary, inputShape: inputShapeOf(capability), example: exampleArguments(capability), output: exampleOutput(capability) });
    return errorResult(toAppError(error), capability, discovery, context.x402Extension);
  }
}
