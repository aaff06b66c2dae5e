import type { AppContext } from '../app.js';
import { TOOL_KINDS, type Capability, type ToolKind } from '../catalog/capability.js';
import { priceLabel } from '../catalog/describe.js';
import { searchCapabilities } from '../catalog/search.js';
import { html, type Html } from './html.js';

/** Provider names as people read them; the catalog's `servedBy` has the names the configuration uses. */
export const PROVIDER_NAMES: Readonly<Record<string, string>> = { local: 'embedded model', alibaba: 'Alibaba Cloud', ailabtools: 'AILabTools', aidge: 'Aidge' };

export const KIND_NAMES: Readonly<Record<ToolKind, string>> = { people: 'People', products: 'Products', scenes: 'Scenes', hd: 'HD', utility: 'Utility' };

const ASYNC_LABELS = { never: 'sync', optional: 'sync or async', always: 'async job' } as const;

export function servedByLabel(servedBy: readonly string[]): string {
  return servedBy.length > 0 ? `Runs here on ${servedBy.map((name) => PROVIDER_NAMES[name] ?? name).join(', then ')}` : 'Not available on this server';
}

export function priceText(capability: Capability, payments: 'required' | 'off'): string {
  if (!capability.price) return 'free';
  return payments === 'off' ? `free here (${priceLabel(capability)} where paid)` : priceLabel(capability);
}

function card(context: AppContext, capability: Capability): Html {
  const servedBy = context.providers.servedBy(capability);
  return html`<li class="card${servedBy.length === 0 ? ' unavailable' : ''}" data-service-id="${capability.serviceId}">
<h2 class="card-title"><a href="/services/${capability.serviceId}">${capability.title}</a></h2>
<p class="card-summary">${capability.summary}</p>
<ul class="facts" aria-label="Facts">
<li class="fact-kind">${KIND_NAMES[capability.kind]}</li>
<li class="fact-price">${priceText(capability, context.config.payments)}</li>
<li class="fact-async">${ASYNC_LABELS[capability.async]}</li>
<li class="fact-provider">${servedByLabel(servedBy)}</li>
</ul>
</li>
`;
}

function kindChoice(value: string, label: string, selected: string): Html {
  return html`<label class="chip"><input type="radio" name="kind" value="${value}"${value === selected ? html` checked` : ''}> ${label}</label>`;
}

/**
 * GET / for browsers: the whole catalog (or a search: `?q=` and `?kind=`, ranked as /api/catalog/search ranks),
 * readable without the script, which then searches as you type.
 */
export function catalogPage(context: AppContext, query: string, kind: ToolKind | undefined): Html {
  const { catalog, config, providers } = context;
  const hits = searchCapabilities(catalog.capabilities, query).filter((hit) => kind === undefined || hit.capability.kind === kind);
  const runningHere = catalog.capabilities.filter((capability) => providers.available(capability)).length;
  const paying =
    config.payments === 'off'
      ? html`Calls are free on this server (<code>PAYMENTS=off</code>).`
      : html`Calls are paid per call: try one with a payment token (the operator mints one with <code>imageseg-mcp tokens mint --service &lt;id&gt;</code>) or x402.`;
  return html`<section class="intro">
<h1>Image segmentation tools</h1>
<p>${catalog.capabilities.length} tools, ${runningHere} of them run on this server. Pick one to see its price, its schema and example requests, and to try it on your own image. ${paying}</p>
</section>
<form class="search" role="search" method="get" action="/" aria-label="Catalog">
<label for="catalog-query">Search tools</label>
<div class="search-row">
<input type="search" id="catalog-query" name="q" value="${query}" placeholder="background, sky, hair, SegmentBody…" autocomplete="off" spellcheck="false">
<button type="submit">Search</button>
</div>
<fieldset class="kinds">
<legend>Kind</legend>
${kindChoice('', 'All', kind ?? '')}
${TOOL_KINDS.map((value) => kindChoice(value, KIND_NAMES[value], kind ?? ''))}
</fieldset>
</form>
<p id="catalog-count" class="count" role="status">${hits.length === 1 ? '1 tool' : `${hits.length} tools`}${query.trim() ? html` for “${query.trim()}”` : ''}</p>
<ul id="catalog-results" class="cards" data-payments="${config.payments}">
${hits.map((hit) => card(context, hit.capability))}
</ul>
`;
}
