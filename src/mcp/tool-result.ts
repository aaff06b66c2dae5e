import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { CallOutcome } from '../call.js';
import { randomUUID } from 'node:crypto';
import type { AppError } from '../errors.js';
import { PaymentRequiredError } from '../payments/index.js';
import type { Capability } from '../catalog/capability.js';
import type { ToolOutput } from '../catalog/schemas.js';

export function successResult(outcome: CallOutcome): CallToolResult {
  const content: CallToolResult['content'] = [{ type: 'text', text: JSON.stringify(outcome.output, null, 2) }];
  for (const image of outcome.inline) content.push({ type: 'image', data: image.bytes.toString('base64'), mimeType: image.mimeType });
  for (const image of outcome.images) {
    if (/^(https?|imageseg):/.test(image.url)) {
      content.push({ type: 'resource_link', uri: image.url, name: image.field, mimeType: image.mimeType, description: `${outcome.capability.title} result` });
    }
  }
  return {
    content,
    structuredContent: outcome.output,
    ...(outcome.receipt ? { _meta: { 'x402/payment-response': outcome.receipt } } : {}),
  };
}

/**
 * x402 MCP transport: the PaymentRequired object as structuredContent (plus the seeds' fields, which the output
 * schema requires) and, in content[0], the `x402/error` wrapper x402 clients parse; then the same advice in words.
 */
function paymentRequiredResult(error: AppError, capability: Pick<Capability, 'action'>, required: Record<string, unknown>, discovery?: Record<string, unknown>): CallToolResult {
  // Over MCP, Bazaar describes the tool to call rather than the REST route.
  const paymentRequired = discovery ? { ...required, extensions: { ...(required.extensions as Record<string, unknown> | undefined), ...discovery } } : required;
  const structured: ToolOutput = {
    ...paymentRequired,
    code: '402',
    content: error.code,
    data: { Action: capability.action },
    message: error.message,
    requestId: randomUUID().toUpperCase(),
    charged: false,
  };
  return {
    isError: true,
    content: [
      { type: 'text', text: JSON.stringify({ 'x402/error': { code: 402, message: error.message, data: paymentRequired } }) },
      { type: 'text', text: `${error.code}: ${error.message}` },
    ],
    structuredContent: structured,
  };
}

/**
 * The error object every answer shares (`{ error: { code, message, retryable, details } }`, docs/ARCHITECTURE.md), wrapped
 * in the seeds' output fields so schema-validating clients accept it.
 * `discovery`: the tool's x402 Bazaar metadata, for payment answers.
 */
export function errorResult(error: AppError, capability: Pick<Capability, 'action'>, discovery?: () => Record<string, unknown>): CallToolResult {
  if (error instanceof PaymentRequiredError) {
    return paymentRequiredResult(error, capability, error.paymentRequired, discovery?.());
  }
  const body = error.toBody();
  const next = error.retryable ? ' It is worth retrying later.' : '';
  const requestId = typeof error.options.details?.requestId === 'string' ? error.options.details.requestId : randomUUID().toUpperCase();
  const structured: ToolOutput = {
    code: String(error.httpStatus),
    content: error.code,
    data: { Action: capability.action },
    message: error.message,
    requestId,
    ...body,
  };
  return {
    isError: true,
    content: [{ type: 'text', text: `${error.code}: ${error.message}.${next}` }],
    structuredContent: structured,
  };
}
