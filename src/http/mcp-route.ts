import type { Express, Request, Response } from 'express';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { AppContext } from '../app.js';
import { createMcpServer, type McpCaller } from '../mcp/server.js';
import { callerOf } from '../tasks/index.js';
import { credentialsFromHeaders } from '../payments/index.js';

async function callerOfRequest(request: Request, context: AppContext): Promise<McpCaller> {
  const { token: paymentToken, x402 } = credentialsFromHeaders((name) => request.get(name));
  const identity = await callerOf(context.payments.identify, { token: paymentToken, x402 }, request.ip);
  return { paymentToken, x402: x402 as string | undefined, address: request.ip, identity };
}

/** notifications/cancelled for a plain call that runs under another POST: stop it if the same caller started it. */
function forwardCancellations(body: unknown, caller: McpCaller, context: AppContext): void {
  const messages = Array.isArray(body) ? body : [body];
  const { key } = caller.identity;
  for (const message of messages as Array<{ method?: unknown; params?: { requestId?: unknown; reason?: unknown } } | null>) {
    const requestId = message?.params?.requestId;
    if (message?.method !== 'notifications/cancelled' || (typeof requestId !== 'string' && typeof requestId !== 'number')) continue;
    context.tasks.cancelCall(key, requestId, typeof message.params?.reason === 'string' ? message.params.reason : undefined);
  }
}

/**
 * Whether any request in the body asked for progress notifications. Only those need an SSE stream (notifications
 * ride on the request's own stream, and in stateless mode there is no other); every other POST is answered with
 * plain JSON, which saves the stream's setup and framing.
 */
function asksForProgress(body: unknown): boolean {
  const messages = Array.isArray(body) ? body : [body];
  return messages.some((message: { params?: { _meta?: { progressToken?: unknown } } } | null) => message?.params?._meta?.progressToken !== undefined);
}

/**
 * Stateless streamable HTTP: one McpServer and transport per POST. Tasks survive between requests (and processes)
 * because they live in the database; each POST sees the tasks its headers' credentials paid for.
 */
export function mountMcp(app: Express, context: AppContext): void {
  app.post('/mcp', async (request: Request, response: Response) => {
    let server: ReturnType<typeof createMcpServer> | undefined;
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: !asksForProgress(request.body) });
    response.on('close', () => {
      void transport.close();
      void server?.close();
    });
    try {
      const caller = await callerOfRequest(request, context);
      forwardCancellations(request.body, caller, context);
      server = createMcpServer({ ...context, caller });
      await server.connect(transport);
      await transport.handleRequest(request, response, request.body);
    } catch (error) {
      context.logger.error({ err: error }, 'MCP request failed');
      if (!response.headersSent) {
        response.status(500).json({ jsonrpc: '2.0', error: { code: -32603, message: 'Internal server error' }, id: null });
      }
    }
  });
  const methodNotAllowed = (_request: Request, response: Response) => {
    response.status(405).set('Allow', 'POST').json({ jsonrpc: '2.0', error: { code: -32000, message: 'Method not allowed: this server is stateless, use POST' }, id: null });
  };
  app.get('/mcp', methodNotAllowed);
  app.delete('/mcp', methodNotAllowed);
}
