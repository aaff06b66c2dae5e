import { createHash } from 'node:crypto';
import type { Express, Response } from 'express';
import { webAsset, type WebAsset } from '../web/assets.js';
import { html, type Html } from './html.js';

/**
 * The console's pages run only our own script and styles, call only this origin, and cannot be framed: the same
 * policy on every page, so nothing a page shows (a summary, a query, a result) can run as code.
 */
export const CONSOLE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "form-action 'self'",
  "base-uri 'none'",
  "object-src 'none'",
].join('; ');

type ConsoleAsset = Extract<WebAsset, 'console.js' | 'console.css'>;

const TYPES: Record<ConsoleAsset, string> = { 'console.js': 'text/javascript; charset=utf-8', 'console.css': 'text/css; charset=utf-8' };

interface Built {
  text: string;
  version: string;
}

const built = new Map<ConsoleAsset, Built | null>();

/** The built file and a hash of it; null before `npm run build` (pages still render, unstyled and without script). */
function builtAsset(name: ConsoleAsset): Built | null {
  if (!built.has(name)) {
    try {
      const text = webAsset(name);
      built.set(name, { text, version: createHash('sha256').update(text).digest('hex').slice(0, 16) });
    } catch {
      built.set(name, null);
    }
  }
  return built.get(name) ?? null;
}

/** `/assets/console.js?v=<hash>`: a new build gets a new URL, so browsers may keep each one for a year. */
const assetUrl = (name: ConsoleAsset) => `/assets/${name}?v=${builtAsset(name)?.version ?? 'missing'}`;

function setPageHeaders(response: Response): void {
  response
    .set('Content-Security-Policy', CONSOLE_CSP)
    .set('X-Content-Type-Options', 'nosniff')
    .set('X-Frame-Options', 'DENY')
    .set('Referrer-Policy', 'no-referrer')
    .set('Cache-Control', 'no-cache')
    .set('Vary', 'Accept');
}

/** GET /assets/console.js and /assets/console.css: the console's script and styles, with a strong ETag. */
export function mountConsoleAssets(app: Express): void {
  app.get('/assets/:name', (request, response, next) => {
    const name = request.params.name as ConsoleAsset;
    if (!(name in TYPES)) return next();
    const asset = builtAsset(name);
    if (!asset) return response.status(404).type('text/plain').send(`${name} is not built: run npm run build`);
    response
      .type(TYPES[name])
      .set('ETag', `"${asset.version}"`)
      .set('Cache-Control', request.query.v === asset.version ? 'public, max-age=31536000, immutable' : 'public, max-age=0, must-revalidate')
      .set('X-Content-Type-Options', 'nosniff')
      .set('Cross-Origin-Resource-Policy', 'same-origin');
    // Express answers 304 when the request's If-None-Match has this ETag.
    response.send(asset.text);
  });
}

export type ConsolePage = 'catalog' | 'service' | 'operator' | 'not-found';

export interface ConsoleDocument {
  page: ConsolePage;
  title: string;
  main: Html;
  /** The page's data for its script, as a JSON block the CSP lets through (it is not executed). */
  data?: Html;
  status?: number;
}

/** One console page: the shell every page shares (header, navigation, main), its data and the script that enhances it. */
export function sendConsolePage(response: Response, document: ConsoleDocument): void {
  const current = (page: ConsolePage) => (document.page === page ? html` aria-current="page"` : '');
  setPageHeaders(response);
  response
    .status(document.status ?? 200)
    .type('html')
    .send(
      html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${document.title}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${assetUrl('console.css')}">
<script type="module" src="${assetUrl('console.js')}"></script>
</head>
<body data-page="${document.page}">
<a class="skip-link" href="#main">Skip to content</a>
<header class="site-header">
<a class="site-name" href="/">imageseg-mcp</a>
<nav aria-label="Console">
<a href="/"${current('catalog')}>Catalog</a>
<a href="/operator"${current('operator')}>Operator</a>
<a href="/openapi.json">OpenAPI</a>
</nav>
</header>
<main id="main">
${document.main}
</main>
${document.data}
</body>
</html>
`.text,
    );
}
