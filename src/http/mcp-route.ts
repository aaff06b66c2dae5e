import type { Express, Request, Response } from 'express';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { AppContext } from '../app.js';
import { createMcpServer, type McpCaller } from '../mcp/server.js';
import { callerOf } from '../tasks/index.js';

function callerOfRequest(request: Request): McpCaller {
  return {
    paymentToken: request.get('x-payment-token') || undefined,
    x402: request.get('payment-signature') || request.get('x-payment') || undefined,
    address: request.ip,
  };
}

/** notifications/cancelled for a plain call that runs under another POST: stop it if the same caller started it. */
function forwardCancellations(body: unknown, caller: McpCaller, context: AppContext): void {
  const messages = Array.isArray(body) ? body : [body];
  const key = callerOf({ token: caller.paymentToken, x402: caller.x402 }, caller.address).key;
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
    const caller = callerOfRequest(request);
    forwardCancellations(request.body, caller, context);
    const server = createMcpServer({ ...context, caller });
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: !asksForProgress(request.body) });
    response.on('close', () => {
      void transport.close();
      void server.close();
    });
    try {
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
