import type { Capability } from '../catalog/capability.js';
import { describeCapability, priceLabel } from '../catalog/describe.js';
import { inputJsonSchemaOf } from '../catalog/schemas.js';
import { exampleArguments } from '../catalog/examples.js';

const escapeHtml = (text: string) =>
  text.replace(/[&<>"']/g, (character) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[character]!);

export function renderServicePage(capability: Capability, options: { baseUrl: string; available: boolean }): string {
  const example = exampleArguments(capability);
  const endpoint = `${options.baseUrl}/api/tools/${capability.serviceId}`;
  const paymentHeader = capability.price ? ` \\\n  -H 'X-Payment-Token: <token from POST /api/payments>'` : '';
  const curl = `curl -X POST ${endpoint} \\\n  -H 'Content-Type: application/json'${paymentHeader} \\\n  -d '${JSON.stringify(example)}'`;
  const fileParts = Object.keys(capability.images).map((field) => `-F ${field}=@${capability.images[field]?.role === 'mask' ? 'mask' : 'photo'}.png`);
  const upload = fileParts.length > 0 ? `curl -X POST ${endpoint}${paymentHeader} \\\n  ${fileParts.join(' ')}` : '';
  const mcpCall = JSON.stringify(
    { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: capability.tool, arguments: { ...example, ...(capability.price ? { paymentToken: '<token>' } : {}) } } },
    null,
    2,
  );
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>${escapeHtml(capability.title)} · imageseg-mcp</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:52rem;margin:2rem auto;padding:0 1rem;color:#222}pre{background:#f4f4f4;padding:1rem;overflow:auto;border-radius:6px}dt{font-weight:600}code{font-size:.95em}</style>
</head>
<body>
<h1>${escapeHtml(capability.title)}</h1>
<p>${escapeHtml(describeCapability(capability, options.available))}</p>
<dl>
<dt>Price</dt><dd>${escapeHtml(priceLabel(capability))}</dd>
<dt>Service ID</dt><dd><code>${escapeHtml(capability.serviceId)}</code> (legacy: ${capability.legacyIds.map((id) => `<code>${escapeHtml(id)}</code>`).join(', ')})</dd>
<dt>Endpoint</dt><dd><code>POST ${escapeHtml(endpoint)}</code></dd>
<dt>MCP tool</dt><dd><code>${escapeHtml(capability.tool)}</code> at <code>${escapeHtml(options.baseUrl)}/mcp</code></dd>
<dt>Alibaba Action</dt><dd><code>${escapeHtml(capability.action)}</code></dd>
</dl>
<h2>Input schema</h2>
<pre>${escapeHtml(JSON.stringify(inputJsonSchemaOf(capability), null, 2))}</pre>
<h2>Call with curl</h2>
<pre>${escapeHtml(curl)}</pre>
${upload ? `<p>or upload the files (add <code>-H 'Accept: image/png'</code> to get the result image itself):</p>\n<pre>${escapeHtml(upload)}</pre>` : ''}
<h2>Call over MCP</h2>
<pre>${escapeHtml(mcpCall)}</pre>
<p><a href="${escapeHtml(options.baseUrl)}/openapi.json">OpenAPI</a> · <a href="${escapeHtml(options.baseUrl)}/api/catalog/search?q=">Catalog</a></p>
</body>
</html>
`;
}
