import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { CallOutcome } from '../call.js';
import { randomUUID } from 'node:crypto';
import type { AppError } from '../errors.js';
import { PaymentRequiredError } from '../payments/index.js';
import type { Capability } from '../catalog/capability.js';
import type { ToolOutput } from '../catalog/schemas.js';
import { viewMeta } from './result-view.js';

/** Where the settlement goes: `_meta["x402/payment-response"]`, or `_meta["org.x402/payment"].settlementResponse` for the extension binding. */
export function receiptMeta(receipt: unknown, x402Extension: boolean): { _meta?: Record<string, unknown> } {
  if (!receipt) return {};
  return { _meta: x402Extension ? { 'org.x402/payment': { settlementResponse: receipt } } : { 'x402/payment-response': receipt } };
}

/**
 * The model's answer (the output as text, the images inline or linked), plus in `_meta` what the MCP App view needs
 * to draw it without a URL: the input preview and where each result image is (result-view.ts).
 */
export function successResult(outcome: CallOutcome, x402Extension = false): CallToolResult {
  const content: CallToolResult['content'] = [{ type: 'text', text: JSON.stringify(outcome.output, null, 2) }];
  const inlineAt: number[] = [];
  for (const image of outcome.inline) inlineAt.push(content.push({ type: 'image', data: image.bytes.toString('base64'), mimeType: image.mimeType }) - 1);
  for (const image of outcome.images) {
    if (/^(https?|imageseg):/.test(image.url)) {
      content.push({ type: 'resource_link', uri: image.url, name: image.field, mimeType: image.mimeType, description: `${outcome.capability.title} result` });
    }
  }
  const { _meta: receipt } = receiptMeta(outcome.receipt, x402Extension);
  return {
    content,
    structuredContent: outcome.output,
    _meta: { ...receipt, ...viewMeta(outcome, inlineAt) },
  };
}

/** Over MCP, Bazaar describes the tool to call rather than the REST route. */
function withDiscovery(required: Record<string, unknown>, discovery?: Record<string, unknown>): Record<string, unknown> {
  return discovery ? { ...required, extensions: { ...(required.extensions as Record<string, unknown> | undefined), ...discovery } } : required;
}

/**
 * x402 MCP transport: the PaymentRequired object as structuredContent (plus the seeds' fields, which the output
 * schema requires) and, in content[0], the `x402/error` wrapper x402 clients parse; then the same advice in words.
 */
function paymentRequiredResult(error: AppError, capability: Pick<Capability, 'action'>, required: Record<string, unknown>, discovery?: Record<string, unknown>): CallToolResult {
  const paymentRequired = withDiscovery(required, discovery);
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
 * The extension binding (a client that advertised `org.x402/payment` over MCP 2026-07-28): not an error and not a
 * completed result, but `resultType: "payment_required"` with the PaymentRequired object.
 */
function paymentRequiredExtensionResult(required: Record<string, unknown>, discovery?: Record<string, unknown>): CallToolResult {
  const paymentRequired = withDiscovery(required, discovery);
  return { resultType: 'payment_required', paymentRequired, content: [] };
}

/**
 * The error object every answer shares (`{ error: { code, message, retryable, details } }`, docs/ARCHITECTURE.md), wrapped
 * in the seeds' output fields so schema-validating clients accept it.
 * `discovery`: the tool's x402 Bazaar metadata, for payment answers.
 */
export function errorResult(error: AppError, capability: Pick<Capability, 'action'>, discovery?: () => Record<string, unknown>, x402Extension = false): CallToolResult {
  if (error instanceof PaymentRequiredError) {
    if (x402Extension) return paymentRequiredExtensionResult(error.paymentRequired, discovery?.());
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
