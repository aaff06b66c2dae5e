import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import { hostHeaderValidation } from '@modelcontextprotocol/sdk/server/middleware/hostHeaderValidation.js';
import type { AppContext } from '../app.js';
import { AppError, toAppError } from '../errors.js';
import { sendError } from './errors.js';
import { mountMcp } from './mcp-route.js';
import { mountTools } from './tools-route.js';
import { mountCatalog } from './catalog-routes.js';
import { mountPayments } from './payments-route.js';
import { mountOperations } from './operations-route.js';

const LOOPBACK_NAMES = ['127.0.0.1', 'localhost', '[::1]', '::1'];

/** Host names the server answers to; undefined means any (bound to all interfaces with no PUBLIC_BASE_URL). */
export function allowedHostNames(context: AppContext): string[] | undefined {
  const { host } = context.config.http;
  const publicHost = new URL(context.config.publicBaseUrl).hostname;
  if (LOOPBACK_NAMES.includes(host)) return [...LOOPBACK_NAMES, publicHost];
  if (host === '0.0.0.0' || host === '::') return process.env.PUBLIC_BASE_URL ? [...LOOPBACK_NAMES, publicHost] : undefined;
  return [...LOOPBACK_NAMES, host, publicHost];
}

/** Browsers send Origin; a page on another site must not drive a local MCP server (DNS rebinding). */
function originCheck(allowed: string[]) {
  return (request: Request, response: Response, next: NextFunction) => {
    const origin = request.get('origin');
    if (!origin) return next();
    let hostname = '';
    try {
      hostname = new URL(origin).hostname;
    } catch {
      // fall through: an unparsable Origin is refused
    }
    if (allowed.includes(hostname) || allowed.includes(`[${hostname}]`)) return next();
    response.status(403).json({ jsonrpc: '2.0', error: { code: -32000, message: `Origin ${origin} is not allowed` }, id: null });
  };
}

export function createHttpApp(context: AppContext): Express {
  const app = express();
  app.disable('x-powered-by');
  const allowed = allowedHostNames(context);
  if (allowed) {
    app.use(hostHeaderValidation(allowed));
    app.use('/mcp', originCheck(allowed));
  } else {
    context.logger.warn('bound to all interfaces without PUBLIC_BASE_URL: Host header checks are off');
  }
  app.use(express.json({ limit: '64mb' }));
  app.get('/', (_request, response) => {
    response.json({ name: 'imageseg-mcp', mcp: '/mcp', tools: '/api/tools/{serviceId}', payments: '/api/payments', catalog: '/api/catalog/search?q=', openapi: '/openapi.json', health: '/healthz' });
  });
  mountMcp(app, context);
  mountTools(app, context);
  mountPayments(app, context);
  mountCatalog(app, context);
  mountOperations(app, context);
  app.use((request, response) => sendError(response, new AppError('NOT_FOUND', `No route ${request.method} ${request.path}`)));
  app.use((error: unknown, _request: Request, response: Response, _next: NextFunction) => {
    const status = (error as { status?: number }).status;
    if (status === 413) return sendError(response, new AppError('IMAGE_TOO_LARGE', 'Request body over 64 MB'));
    if (status === 400) return sendError(response, new AppError('INVALID_ARGUMENT', `Malformed JSON body: ${(error as Error).message}`));
    sendError(response, toAppError(error));
  });
  return app;
}
