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
}

/** A 2025-11-25 request, as the v1 SDK hands it to a tool. */
export function contextOfLegacyCall(extra: RequestHandlerExtra<ServerRequest, ServerNotification>): ToolCallContext {
  const progressToken = extra._meta?.progressToken;
  return {
    meta: extra._meta,
    signal: extra.signal,
    x402Extension: false,
    ...(progressToken === undefined
      ? {}
      : { onProgress: (progress: Progress) => void extra.sendNotification({ method: 'notifications/progress', params: { progressToken, ...progress } }).catch(() => undefined) }),
  };
}

/** The idempotency key a caller put in `_meta`, if any. */
export function idempotencyKeyOf(context: ToolCallContext): { idempotencyKey?: string } {
  const key = context.meta?.['idempotency-key'];
  return typeof key === 'string' ? { idempotencyKey: key } : {};
}
