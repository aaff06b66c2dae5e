import type { Express, Request } from 'express';
import type { AppContext } from '../app.js';
import { TOOL_KINDS, type ToolKind } from '../catalog/capability.js';
import { AppError } from '../errors.js';
import { catalogPage } from './catalog-page.js';
import { mountConsoleAssets, sendConsolePage } from './console-document.js';
import { sendError } from './errors.js';
import { html } from './html.js';
import { operatorPage } from './operator-page.js';
import { servicePage } from './service-page.js';

/** A browser navigating asks for HTML first; curl, fetch and SDKs send `*\/*` or JSON and keep getting JSON. */
const wantsHtml = (request: Request) => request.accepts(['application/json', 'text/html']) === 'text/html';

const text = (value: unknown) => (typeof value === 'string' ? value : '');

/**
 * The web console, served by the same process: `/` (the catalog, for browsers), `/services/<serviceId>` (a tool's
 * page and try-it form), `/operator`, and their script and styles under `/assets/`. The pages call the public
 * routes like any client, from this origin only (see CONSOLE_CSP).
 */
export function mountConsole(app: Express, context: AppContext): void {
  mountConsoleAssets(app);

  app.get('/', (request, response, next) => {
    if (!wantsHtml(request)) return next();
    const kind = TOOL_KINDS.includes(text(request.query.kind) as ToolKind) ? (text(request.query.kind) as ToolKind) : undefined;
    sendConsolePage(response, { page: 'catalog', title: 'imageseg-mcp · image segmentation tools', main: catalogPage(context, text(request.query.q).slice(0, 200), kind) });
  });

  app.get('/services/:id', (request, response) => {
    const capability = context.catalog.find(request.params.id);
    if (!capability) {
      if (!wantsHtml(request)) return sendError(response, new AppError('NOT_FOUND', `No service named "${request.params.id}"`));
      return sendConsolePage(response, {
        page: 'not-found',
        status: 404,
        title: 'No such tool · imageseg-mcp',
        main: html`<h1>No such tool</h1><p>No tool is named “${request.params.id}”. <a href="/">Search the catalog</a>.</p>`,
      });
    }
    const { main, data } = servicePage(context, capability);
    sendConsolePage(response, { page: 'service', title: `${capability.title} · imageseg-mcp`, main, data });
  });

  app.get('/operator', (_request, response) => {
    sendConsolePage(response, { page: 'operator', title: 'Operator · imageseg-mcp', main: operatorPage(context) });
  });
}
