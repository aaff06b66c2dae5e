import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import type { ServerNotification, ServerRequest } from '@modelcontextprotocol/sdk/types.js';
import type { Progress } from '../providers/provider.js';

/** The x402 extension binding of MCP 2026-07-28 (x402 transports-v2 MCP v3): `payment_required` results and `_meta["org.x402/payment"]`. */
export const X402_EXTENSION = 'org.x402/payment';

/**
 * What a tool call needs from its request, whichever protocol generation carried it: the caller's `_meta` (x402
 * payment, idempotency key, progress token), its cancellation, a way to report progress, and whether the client
 * takes the x402 extension binding.
 */
export interface ToolCallContext {
  meta: Record<string, unknown> | undefined;
  signal: AbortSignal;
  onProgress?: (progress: Progress) => void;
  x402Extension: boolean;
  /** The client may show the MCP App view: its answers carry an input preview (result-view.ts). */
  appView: boolean;
}

type ProgressNotification = { method: 'notifications/progress'; params: { progressToken: string | number; progress: number; total?: number; message?: string; [field: string]: unknown } };

/** A call's context from its request's parts: progress is reported only when the request's `_meta` has a `progressToken`. */
export function toolCallContext(
  meta: Record<string, unknown> | undefined,
  signal: AbortSignal,
  extensions: { x402: boolean; apps: boolean },
  notify: (notification: ProgressNotification) => Promise<void>,
): ToolCallContext {
  const progressToken = meta?.progressToken;
  return {
    meta,
    signal,
    x402Extension: extensions.x402,
    appView: extensions.apps,
    ...(typeof progressToken === 'string' || typeof progressToken === 'number'
      ? { onProgress: (progress: Progress) => void notify({ method: 'notifications/progress', params: { progressToken, ...progress } }).catch(() => undefined) }
      : {}),
  };
}

/**
 * A 2025-11-25 request, as the v1 SDK hands it to a tool. `apps`: the client listed the MCP Apps extension at
 * initialize (stdio; a stateless HTTP request's server never sees initialize, so its answers carry no input preview:
 * making one costs an image encode and a stored file on every call).
 */
export function contextOfLegacyCall(extra: RequestHandlerExtra<ServerRequest, ServerNotification>, apps: boolean): ToolCallContext {
  return toolCallContext(extra._meta, extra.signal, { x402: false, apps }, (notification) => extra.sendNotification(notification));
}

/** The idempotency key a caller put in `_meta`, if any. */
export function idempotencyKeyOf(context: ToolCallContext): { idempotencyKey?: string } {
  const key = context.meta?.['idempotency-key'];
  return typeof key === 'string' ? { idempotencyKey: key } : {};
}
