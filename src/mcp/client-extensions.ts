import type { ServerContext } from '@modelcontextprotocol/server';

/** The extensions a 2026-07-28 request says its client takes, from the capabilities in its `_meta` envelope. */
export function clientExtensions(ctx: ServerContext): Record<string, unknown> {
  const envelope = ctx.mcpReq.envelope as Record<string, { extensions?: Record<string, unknown> } | undefined> | undefined;
  return envelope?.['io.modelcontextprotocol/clientCapabilities']?.extensions ?? {};
}
