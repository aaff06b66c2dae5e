import type { Express, Request, Response } from 'express';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { createMcpHandler, isLegacyRequest, type AuthInfo } from '@modelcontextprotocol/server';
import type { AppContext } from '../app.js';
import { largestRequestBytes } from '../catalog/request-size.js';
import { createModernServer } from '../mcp/modern-server.js';
import { createMcpServer, type McpCaller } from '../mcp/server.js';
import { sendWebResponse, webRequestOf } from './web-request.js';
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

/** A 2025-11-25 request: stateless streamable HTTP on the v1 SDK, one McpServer and transport per POST. */
async function serveLegacy(request: Request, response: Response, context: AppContext, caller: McpCaller): Promise<void> {
  const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: !asksForProgress(request.body) });
  forwardCancellations(request.body, caller, context);
  const server = createMcpServer({ ...context, caller });
  response.on('close', () => {
    void transport.close();
    void server.close();
  });
  await server.connect(transport);
  await transport.handleRequest(request, response, request.body);
}

/** What the route hands the 2026-07-28 handler about the caller, read back by its server factory. */
const authOf = (caller: McpCaller): AuthInfo => ({ token: '', clientId: caller.identity.key, scopes: [], extra: { caller } });

/**
 * One /mcp endpoint for both protocol generations. A 2026-07-28 request (its `_meta` envelope says so) goes to the
 * v2 SDK's stateless handler (`server/discover`, per-request `_meta`, `resultType`, caching hints, the
 * `Mcp-Method`/`Mcp-Name` header checks); anything else (`initialize` first) to the v1 SDK, as before. Both build a
 * server per request from the same descriptors; tasks live in the database, so any replica answers for them, and
 * each request sees the tasks its credentials paid for.
 */
export function mountMcp(app: Express, context: AppContext): void {
  const modern = createMcpHandler(({ authInfo }) => createModernServer({ ...context, caller: authInfo?.extra?.caller as McpCaller }), {
    legacy: 'reject',
    // The body reaches the handler already read and parsed (`parsedBody`) within this bound (app.ts, jsonRpcBody).
    maxRequestBodySize: largestRequestBytes(context.catalog.capabilities),
    onerror: (error) => context.logger.error({ err: error }, 'MCP request failed'),
  });
  app.post('/mcp', async (request: Request, response: Response) => {
    try {
      const caller = await callerOfRequest(request, context);
      const gone = new AbortController();
      response.on('close', () => gone.abort());
      const webRequest = webRequestOf(request, gone.signal);
      if (await isLegacyRequest(webRequest, request.body)) {
        await serveLegacy(request, response, context, caller);
        return;
      }
      await sendWebResponse(await modern.fetch(webRequest, { parsedBody: request.body, authInfo: authOf(caller) }), response);
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
