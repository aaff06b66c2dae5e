import type { AppContext } from '../app.js';
import { html, type Html } from './html.js';

/**
 * /operator: a page over the operator routes (tokens, revenue, calls by provider). It holds no data of its own:
 * the script asks for the admin token, keeps it in this tab only and calls /api/admin/* with it.
 */
export function operatorPage(context: AppContext): Html {
  const enabled = Boolean(context.config.adminToken);
  return html`<h1>Operator</h1>
<p>Tokens, revenue per service and day, and calls by provider and tool, read from the operator routes
(<code>/api/admin/tokens</code>, <code>/api/admin/revenue</code>, <code>/api/admin/stats</code>) with the server’s <code>ADMIN_TOKEN</code>.</p>
${
  enabled
    ? html`<form id="operator-sign-in" class="sign-in" method="post" action="/operator">
<label for="admin-token">Admin token</label>
<div class="search-row">
<input type="password" id="admin-token" autocomplete="off" spellcheck="false" required aria-describedby="admin-token-hint">
<button type="submit">Open</button>
</div>
<p id="admin-token-hint" class="hint">Kept in this tab only (sessionStorage) and sent as <code>Authorization: Bearer</code>; never put in a URL.</p>
</form>
<div id="operator"><noscript><p>This page needs JavaScript; the same data is at the routes above (<code>curl -H "Authorization: Bearer $ADMIN_TOKEN"</code>).</p></noscript></div>`
    : html`<div class="notice notice-info" role="status"><strong>Operator routes are off</strong><p>Start the server with <code>ADMIN_TOKEN</code> set to use this page. Meanwhile <code>imageseg-mcp tokens list</code> and <code>imageseg-mcp revenue</code> read the same ledger from a terminal.</p></div>`
}
`;
}
