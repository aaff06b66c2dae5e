import { element } from '../shared/dom.js';
import { getJson, priceLabel, servedByLabel, type CatalogAnswer, type CatalogEntry } from './api.js';

const KIND_NAMES: Record<string, string> = { people: 'People', products: 'Products', scenes: 'Scenes', hd: 'HD', utility: 'Utility' };
const ASYNC_LABELS: Record<string, string> = { never: 'sync', optional: 'sync or async', always: 'async job' };
const DEBOUNCE_MS = 150;

/** The same card the server renders (src/http/catalog-page.ts), from a catalog entry. */
function card(entry: CatalogEntry, paymentsOff: boolean): HTMLLIElement {
  const price = paymentsOff && entry.price ? `free here (${priceLabel(entry.price)} where paid)` : priceLabel(entry.price);
  const facts = element('ul', { className: 'facts' }, [
    element('li', { className: 'fact-kind', textContent: KIND_NAMES[entry.kind] ?? entry.kind }),
    element('li', { className: 'fact-price', textContent: price }),
    element('li', { className: 'fact-async', textContent: ASYNC_LABELS[entry.async] ?? entry.async }),
    element('li', { className: 'fact-provider', textContent: servedByLabel(entry.servedBy) }),
  ]);
  facts.setAttribute('aria-label', 'Facts');
  const item = element('li', { className: `card${entry.servedBy.length === 0 ? ' unavailable' : ''}` }, [
    element('h2', { className: 'card-title' }, [element('a', { href: `/services/${encodeURIComponent(entry.serviceId)}`, textContent: entry.title })]),
    element('p', { className: 'card-summary', textContent: entry.summary }),
    facts,
  ]);
  item.dataset.serviceId = entry.serviceId;
  return item;
}

/**
 * The catalog searches as you type: each change asks /api/catalog/search (the same ranking the server used for the
 * page) and redraws the cards; the address bar keeps the search so it can be shared or reloaded.
 */
export function enhanceCatalog(): void {
  const form = document.querySelector<HTMLFormElement>('form.search');
  const input = document.querySelector<HTMLInputElement>('#catalog-query');
  const list = document.querySelector<HTMLUListElement>('#catalog-results');
  const count = document.querySelector<HTMLElement>('#catalog-count');
  if (!form || !input || !list || !count) return;
  const paymentsOff = list.dataset.payments === 'off';
  form.classList.add('live');
  let timer: number | undefined;
  let latest = 0;

  const search = async () => {
    const query = input.value.trim();
    const kind = new FormData(form).get('kind')?.toString() ?? '';
    const parameters = new URLSearchParams({ q: query, ...(kind ? { kind } : {}) });
    const asked = ++latest;
    try {
      const answer = await getJson<CatalogAnswer>(`/api/catalog/search?${parameters.toString()}`);
      if (asked !== latest) return;
      list.replaceChildren(...answer.results.map((entry) => card(entry, paymentsOff)));
      count.textContent = `${answer.count === 1 ? '1 tool' : `${answer.count} tools`}${query ? ` for “${query}”` : ''}`;
      const shown = new URLSearchParams({ ...(query ? { q: query } : {}), ...(kind ? { kind } : {}) }).toString();
      history.replaceState(null, '', shown ? `/?${shown}` : '/');
    } catch (error) {
      if (asked === latest) count.textContent = `Search failed: ${(error as Error).message}`;
    }
  };

  input.addEventListener('input', () => {
    window.clearTimeout(timer);
    timer = window.setTimeout(() => void search(), DEBOUNCE_MS);
  });
  form.addEventListener('change', (event) => {
    if ((event.target as HTMLInputElement).name === 'kind') void search();
  });
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    window.clearTimeout(timer);
    void search();
  });
}
