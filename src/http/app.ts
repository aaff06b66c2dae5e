import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import { hostHeaderValidation } from '@modelcontextprotocol/sdk/server/middleware/hostHeaderValidation.js';
import type { AppContext } from '../app.js';
import { AppError, toAppError } from '../errors.js';
import { sendError } from './errors.js';
import { closeAfterAnswer, jsonBody } from './body.js';
import { jsonRpcBody } from './mcp-body.js';
import { createBodyBudget } from './body-budget.js';
import { largestRequestBytes, SMALL_REQUEST_BYTES } from '../catalog/request-size.js';
import { mountMcp } from './mcp-route.js';
import { mountTools } from './tools-route.js';
import { mountBatch } from './batch-route.js';
import { mountCatalog } from './catalog-routes.js';
import { mountPayments } from './payments-route.js';
import { mountOperations } from './operations-route.js';
import { mountOperatorStats } from './operator-stats.js';
import { mountConsole } from './console-routes.js';
import { rateLimit } from './rate-limit.js';
import { refuseWhileDraining } from './draining.js';

const LOOPBACK_NAMES = ['127.0.0.1', 'localhost', '[::1]', '::1'];

const onAllInterfaces = (host: string) => host === '0.0.0.0' || host === '::';

/** Host names the server answers to; undefined means any (bound to all interfaces with no PUBLIC_BASE_URL). */
export function allowedHostNames(context: AppContext): string[] | undefined {
  const { host, publicBaseUrlSet } = context.config.http;
  const publicHost = new URL(context.config.publicBaseUrl).hostname;
  if (LOOPBACK_NAMES.includes(host)) return [...LOOPBACK_NAMES, publicHost];
  if (onAllInterfaces(host)) return publicBaseUrlSet ? [...LOOPBACK_NAMES, publicHost] : undefined;
  return [...LOOPBACK_NAMES, host, publicHost];
}

/**
 * Browsers send Origin; a page on another site must not drive a local MCP server (DNS rebinding). The server's
 * own names pass on any bind address, even where the Host check is off; other sites only when the operator lists them.
 */
function originCheck(ownNames: string[], allowedOrigins: string[]) {
  return (request: Request, response: Response, next: NextFunction) => {
    const origin = request.get('origin');
    if (!origin) return next();
    let url: URL | undefined;
    try {
      url = new URL(origin);
    } catch {
      // fall through: an unparsable Origin is refused
    }
    if (url && (ownNames.includes(url.hostname) || ownNames.includes(`[${url.hostname}]`) || allowedOrigins.includes(url.origin))) return next();
    response.status(403).json({ jsonrpc: '2.0', error: { code: -32000, message: `Origin ${origin} is not allowed (set IMAGESEG_ALLOWED_ORIGINS to admit it)` }, id: null });
  };
}

/** Says at start which of the two checks are on, and for which names. */
function logChecks(context: AppContext, hostNames: string[] | undefined, ownNames: string[]): void {
  const { allowedOrigins } = context.config.http;
  const others = allowedOrigins.length > 0 ? ` and ${allowedOrigins.join(', ')}` : ' (IMAGESEG_ALLOWED_ORIGINS admits others)';
  const origins = `Origin check on /mcp: ${ownNames.join(', ')}${others}`;
  if (hostNames) return void context.logger.info({ hostNames, allowedOrigins }, `Host header check on: ${hostNames.join(', ')}; ${origins}`);
  context.logger.warn({ allowedOrigins }, `bound to all interfaces without PUBLIC_BASE_URL: Host header check off (no known name; set PUBLIC_BASE_URL to turn it on); ${origins}`);
}

export function createHttpApp(context: AppContext): Express {
  const app = express();
  app.locals.logger = context.logger;
  app.disable('x-powered-by');
  const hostNames = allowedHostNames(context);
  const ownNames = hostNames ?? [...new Set([...LOOPBACK_NAMES, new URL(context.config.publicBaseUrl).hostname])];
  logChecks(context, hostNames, ownNames);
  app.use(refuseWhileDraining(context));
  if (hostNames) app.use(hostHeaderValidation(hostNames));
  app.use(rateLimit(context));
  app.use('/mcp', originCheck(ownNames, context.config.http.allowedOrigins));
  // Bodies are limited per route, from the descriptors: /mcp takes the largest tool input, /api/tools/<id> its own
  // (tools-route.ts), everything else is small; all of them together by the body budget.
  const budget = createBodyBudget(context.config.http.bodyBudgetBytes);
  app.post('/mcp', jsonRpcBody(largestRequestBytes(context.catalog.capabilities), budget));
  // The console answers browsers (Accept: text/html) at /; everyone else gets this index.
  mountConsole(app, context);
  app.get('/', (_request, response) => {
    response.vary('Accept').json({ name: 'imageseg-mcp', mcp: '/mcp', tools: '/api/tools/{serviceId}', batch: '/api/batch/{serviceId}', serverCard: '/.well-known/mcp/server-card.json', payments: '/api/payments', catalog: '/api/catalog/search?q=', openapi: '/openapi.json', health: '/healthz' });
  });
  mountMcp(app, context);
  mountTools(app, context, budget);
  mountBatch(app, context, budget);
  app.use(jsonBody({ maxBytes: SMALL_REQUEST_BYTES, purpose: 'this route (no images)', budget }));
  mountPayments(app, context);
  mountCatalog(app, context);
  mountOperations(app, context);
  mountOperatorStats(app, context);
  app.use((request, response) => sendError(response, new AppError('NOT_FOUND', `No route ${request.method} ${request.path}`)));
  app.use((error: unknown, request: Request, response: Response, _next: NextFunction) => {
    closeAfterAnswer(request, response);
    const status = (error as { status?: number }).status;
    if (status === 400) return sendError(response, new AppError('INVALID_ARGUMENT', (error as Error).message));
    sendError(response, toAppError(error));
  });
  return app;
}
