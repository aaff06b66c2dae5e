import { element, notice } from '../shared/dom.js';
import { errorMessage, getJson, PROVIDER_NAMES, RouteError, type CatalogAnswer } from './api.js';
import { adminToken, paymentToken } from './session.js';

interface TokenSummary {
  id: string;
  serviceId: string;
  callsTotal: number;
  callsUsed: number;
  callsInProgress: number;
  callsRemaining: number;
  expiresAt: string | null;
  revoked: boolean;
  createdAt: string;
  source: string;
}

interface RevenueReport {
  days: Array<{ day: string; serviceId: string; calls: number; usd: string }>;
  total: { calls: number; usd: string };
}

interface Tally {
  calls: number;
  ok: number;
  failed: number;
  outcomes: Array<{ outcome: string; count: number }>;
}

interface OperatorStats {
  since: string;
  byTool: Array<{ tool: string } & Tally>;
  byProvider: Array<{ provider: string; skipped: number } & Tally>;
  fallbacks: Array<{ tool: string; provider: string; reason: string; count: number }>;
}

type Cell = string | number | Node;

function table(caption: string, headings: string[], rows: Cell[][], footer?: Cell[]): HTMLElement {
  const cell = (tag: 'td' | 'th', value: Cell) => element(tag, {}, [typeof value === 'number' ? String(value) : value]);
  const head = element('thead', {}, [element('tr', {}, headings.map((heading) => element('th', { scope: 'col', textContent: heading })))]);
  const body = element('tbody', {}, rows.map((row) => element('tr', {}, row.map((value) => cell('td', value)))));
  const parts: HTMLElement[] = [element('caption', { className: 'visually-hidden', textContent: caption }), head, body];
  if (footer) parts.push(element('tfoot', {}, [element('tr', {}, footer.map((value) => cell('th', value)))]));
  const scroller = element('div', { className: 'table-scroll', tabIndex: 0 }, [element('table', {}, parts)]);
  scroller.setAttribute('role', 'region');
  scroller.setAttribute('aria-label', `${caption} (table)`);
  return scroller;
}

const outcomesText = (outcomes: Tally['outcomes']) => outcomes.map(({ outcome, count }) => `${outcome} ×${count}`).join(', ') || '—';
const day = (iso: string | null) => (iso ? iso.slice(0, 16).replace('T', ' ') : 'never');

function section(title: string, ...content: Node[]): HTMLElement {
  const id = `operator-${title.toLowerCase().replace(/[^a-z]+/g, '-')}`;
  const heading = element('h2', { id, textContent: title });
  const node = element('section', {}, [heading, ...content]);
  node.setAttribute('aria-labelledby', id);
  return node;
}

function statsSections(stats: OperatorStats): HTMLElement[] {
  const since = `Since this server process started (${day(stats.since)} UTC), as /metrics counts them.`;
  const providers = stats.byProvider.length
    ? table(
        'Calls by provider',
        ['Provider', 'Runs', 'OK', 'Failed', 'Skipped', 'Failures'],
        stats.byProvider.map((row) => [PROVIDER_NAMES[row.provider] ? `${PROVIDER_NAMES[row.provider]} (${row.provider})` : row.provider, row.calls, row.ok, row.failed, row.skipped, outcomesText(row.outcomes)]),
      )
    : element('p', { textContent: 'No provider has run a call yet.' });
  const tools = stats.byTool.length
    ? table('Calls by tool', ['Tool', 'Calls', 'OK', 'Failed', 'Outcomes'], stats.byTool.map((row) => [row.tool, row.calls, row.ok, row.failed, outcomesText(row.outcomes)]))
    : element('p', { textContent: 'No calls yet.' });
  const fallbacks = stats.fallbacks.length
    ? [element('h3', { textContent: 'Fallbacks' }), table('Fallbacks', ['Tool', 'Passed over', 'Why', 'Count'], stats.fallbacks.map((row) => [row.tool, row.provider, row.reason, row.count]))]
    : [];
  return [
    section('Calls by provider', element('p', { className: 'hint', textContent: since }), providers, ...fallbacks),
    section('Calls by tool', element('p', { className: 'hint', textContent: 'Every outcome but ok is counted as failed, refused payments included.' }), tools),
  ];
}

function revenueSection(revenue: RevenueReport): HTMLElement {
  return section(
    'Revenue per service and day',
    revenue.days.length
      ? table(
          'Revenue per service and day',
          ['Day (UTC)', 'Service', 'Calls', 'USD'],
          revenue.days.map((row) => [row.day, row.serviceId, row.calls, row.usd]),
          ['Total', '', revenue.total.calls, revenue.total.usd],
        )
      : element('p', { textContent: 'Nothing charged yet.' }),
  );
}

function tokensSection(tokens: TokenSummary[]): HTMLElement {
  const status = (token: TokenSummary) => (token.revoked ? 'revoked' : token.expiresAt && Date.parse(token.expiresAt) <= Date.now() ? 'expired' : token.callsRemaining > 0 ? 'active' : 'used up');
  return section(
    'Tokens',
    element('p', { className: 'hint', textContent: 'Each token is listed by a prefix of its hash: the tokens themselves are shown once, when minted.' }),
    tokens.length
      ? table(
          'Tokens',
          ['ID', 'Service', 'Source', 'Used', 'Left', 'In progress', 'Expires', 'Created', 'Status'],
          tokens.map((token) => [
            element('code', { textContent: token.id }),
            token.serviceId,
            token.source,
            `${token.callsUsed} of ${token.callsTotal}`,
            token.callsRemaining,
            token.callsInProgress,
            day(token.expiresAt),
            day(token.createdAt),
            status(token),
          ]),
        )
      : element('p', { textContent: 'No tokens yet.' }),
  );
}

/** Mint a token: shown once, with a button that keeps it for its tool's try-it form in this tab. */
function mintSection(services: string[], token: string, output: HTMLElement, refresh: () => void): HTMLElement {
  const service = element('select', { id: 'mint-service' }, services.map((id) => element('option', { value: id, textContent: id })));
  const calls = element('input', { type: 'number', id: 'mint-calls', min: '1', max: '1000', step: '1', value: '1', inputMode: 'numeric' });
  const expires = element('input', { type: 'text', id: 'mint-expires', placeholder: '30d, 12h or 2026-12-31', autocomplete: 'off' });
  const form = element('form', { className: 'mint-form' }, [
    element('div', { className: 'field' }, [element('label', { htmlFor: service.id, textContent: 'Service' }), service]),
    element('div', { className: 'field' }, [element('label', { htmlFor: calls.id, textContent: 'Calls' }), calls]),
    element('div', { className: 'field' }, [element('label', { htmlFor: expires.id, textContent: 'Expires, optional' }), expires]),
    element('div', { className: 'actions' }, [element('button', { type: 'submit', textContent: 'Mint' })]),
  ]);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const body = { serviceId: service.value, calls: Number(calls.value || '1'), ...(expires.value.trim() ? { expires: expires.value.trim() } : {}) };
    void fetch('/api/admin/tokens', { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify(body), credentials: 'same-origin' })
      .then(async (response) => {
        const answer = (await response.json().catch(() => undefined)) as { paymentToken?: string; serviceId?: string } | undefined;
        if (response.status !== 201 || !answer?.paymentToken) throw new Error(errorMessage(answer, response.status));
        const minted = answer.paymentToken;
        const serviceId = answer.serviceId ?? body.serviceId;
        const use = element('button', { type: 'button', className: 'secondary', textContent: 'Use it in this tab' });
        use.addEventListener('click', () => {
          paymentToken.set(serviceId, minted);
          location.assign(`/services/${encodeURIComponent(serviceId)}`);
        });
        const shown = element('input', { type: 'text', readOnly: true, value: minted, className: 'token-output' });
        shown.setAttribute('aria-label', 'The new token');
        output.replaceChildren(notice('info', `Token for ${serviceId}: shown this once`, [shown, element('div', { className: 'actions' }, [use])]));
        refresh();
      })
      .catch((error: unknown) => output.replaceChildren(notice('error', 'Not minted', [(error as Error).message])));
  });
  return section('Mint a token', form, output);
}

/**
 * /operator: asks for ADMIN_TOKEN (kept in this tab's sessionStorage, sent as a bearer header), then shows calls by
 * provider and tool (/api/admin/stats), revenue per service and day (/api/admin/revenue) and the tokens
 * (/api/admin/tokens), and mints tokens.
 */
export function enhanceOperator(): void {
  const signIn = document.querySelector<HTMLFormElement>('#operator-sign-in');
  const input = document.querySelector<HTMLInputElement>('#admin-token');
  const root = document.getElementById('operator');
  if (!signIn || !input || !root) return;
  // Kept across refreshes: a minted token stays on screen after the tables are redrawn.
  const minted = element('div', { className: 'minted' });
  minted.setAttribute('aria-live', 'polite');
  const status = element('div', { className: 'operator-status' });
  status.setAttribute('role', 'status');
  root.before(status);

  const signOut = () => {
    adminToken.set('');
    root.replaceChildren();
    minted.replaceChildren();
    signIn.hidden = false;
    input.focus();
  };

  const load = async () => {
    const token = adminToken.get();
    if (!token) return;
    const headers = { authorization: `Bearer ${token}` };
    status.replaceChildren(notice('working', 'Loading…'));
    try {
      const [tokens, revenue, stats, catalog] = await Promise.all([
        getJson<{ tokens: TokenSummary[] }>('/api/admin/tokens', headers),
        getJson<RevenueReport>('/api/admin/revenue', headers),
        getJson<OperatorStats>('/api/admin/stats', headers),
        getJson<CatalogAnswer>('/api/catalog/search'),
      ]);
      signIn.hidden = true;
      status.replaceChildren();
      const refresh = element('button', { type: 'button', className: 'secondary', textContent: 'Refresh' });
      refresh.addEventListener('click', () => void load());
      const leave = element('button', { type: 'button', className: 'secondary', textContent: 'Sign out' });
      leave.addEventListener('click', signOut);
      const services = catalog.results.filter((entry) => entry.price !== null).map((entry) => entry.serviceId);
      root.replaceChildren(
        element('div', { className: 'actions toolbar' }, [refresh, leave]),
        ...statsSections(stats),
        revenueSection(revenue),
        tokensSection(tokens.tokens),
        mintSection(services, token, minted, () => void load()),
      );
    } catch (error) {
      if (error instanceof RouteError && error.status === 401) {
        signOut();
        status.replaceChildren(notice('error', 'The admin token was refused', [error.message]));
      } else status.replaceChildren(notice('error', 'Could not load the operator data', [(error as Error).message]));
    }
  };

  signIn.addEventListener('submit', (event) => {
    event.preventDefault();
    adminToken.set(input.value);
    input.value = '';
    void load();
  });
  void load();
}
