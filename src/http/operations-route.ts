import type { Express, NextFunction, Request, Response } from 'express';
import type { AppContext } from '../app.js';
import { PRODUCT_VERSION } from '../version.js';
import { requireOperator } from './operator-auth.js';

/** /healthz for probes; /metrics for Prometheus, behind ADMIN_TOKEN when one is set (open on a loopback-only default). */
export function mountOperations(app: Express, context: AppContext): void {
  const { catalog, providers, config } = context;
  // Built here, not on the first call or scrape: an HTTP server's default metrics cover its whole life, and no
  // request waits while prom-client loads (a stdio server never mounts this and never loads it unless it records).
  const { registry } = context.metrics;
  app.get('/healthz', (_request, response) => {
    response.json({ status: 'ok', version: PRODUCT_VERSION, provider: providers.active, tools: catalog.capabilities.length, payments: config.payments });
  });
  const operatorWhenConfigured = (request: Request, response: Response, next: NextFunction) =>
    config.adminToken ? requireOperator(context)(request, response, next) : next();
  app.get('/metrics', operatorWhenConfigured, async (_request, response) => {
    response.type(registry.contentType).send(await registry.metrics());
  });
}
