import type { Express } from 'express';
import type { AppContext } from '../app.js';
import { TOOL_KINDS, type Capability } from '../catalog/capability.js';
import { searchCapabilities } from '../catalog/search.js';
import { buildOpenApi } from '../catalog/openapi.js';
import { AppError } from '../errors.js';
import { PRODUCT_VERSION } from '../version.js';
import { sendError } from './errors.js';
import { serverCardOf } from '../mcp/server-card.js';

function catalogEntry(context: AppContext, capability: Capability, score: number) {
  const base = context.config.publicBaseUrl;
  return {
    serviceId: capability.serviceId,
    tool: capability.tool,
    action: capability.action,
    kind: capability.kind,
    title: capability.title,
    summary: capability.summary,
    keywords: [...capability.keywords],
    legacyIds: [...capability.legacyIds],
    async: capability.async,
    price: capability.price,
    available: context.providers.available(capability),
    servedBy: context.providers.servedBy(capability),
    localModel: capability.localModel ?? null,
    endpoint: `${base}/api/tools/${capability.serviceId}`,
    servicePage: `${base}/services/${capability.serviceId}`,
    score,
  };
}

export function mountCatalog(app: Express, context: AppContext): void {
  const { catalog, providers, config } = context;
  let openApi: Record<string, unknown> | undefined;

  app.get('/api/catalog/search', (request, response) => {
    const query = typeof request.query.q === 'string' ? request.query.q : '';
    const kind = typeof request.query.kind === 'string' && request.query.kind !== '' ? request.query.kind : undefined;
    if (kind !== undefined && !(TOOL_KINDS as readonly string[]).includes(kind)) {
      return sendError(response, new AppError('INVALID_ARGUMENT', `Unknown kind "${kind}": one of ${TOOL_KINDS.join(', ')}`));
    }
    const results = searchCapabilities(catalog.capabilities, query)
      .filter((hit) => kind === undefined || hit.capability.kind === kind)
      .map((hit) => catalogEntry(context, hit.capability, hit.score));
    response.json({ query, ...(kind ? { kind } : {}), count: results.length, results });
  });

  app.get('/openapi.json', (_request, response) => {
    openApi ??= buildOpenApi(catalog.capabilities, { serverUrl: config.publicBaseUrl, version: PRODUCT_VERSION, available: providers.available });
    response.json(openApi);
  });

  app.get('/.well-known/mcp/server-card.json', (_request, response) => {
    const { payTo, network, asset } = config.x402;
    const x402 = payTo ? { payTo, network, asset } : undefined;
    const card = serverCardOf({ catalog, providers, baseUrl: config.publicBaseUrl, payments: config.payments, ...(x402 ? { x402 } : {}) });
    response.set('Access-Control-Allow-Origin', '*').set('Cache-Control', 'public, max-age=300').json(card);
  });

  // GET /services/:id is the console's service page (console-routes.ts).

  app.get('/results/:id', async (request, response) => {
    const stored = await context.results.load(request.params.id);
    if (!stored) return sendError(response, new AppError('NOT_FOUND', 'Unknown or expired result'));
    response.type(stored.mimeType).set('Cache-Control', 'private, max-age=3600').send(stored.bytes);
  });
}
