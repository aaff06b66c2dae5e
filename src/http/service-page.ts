import type { AppContext } from '../app.js';
import type { Capability } from '../catalog/capability.js';
import { describeCapability } from '../catalog/describe.js';
import { exampleArguments, exampleOutput } from '../catalog/examples.js';
import { inputJsonSchemaOf, jsonSchemaOf, toolOutputSchema } from '../catalog/schemas.js';
import { KIND_NAMES, priceText, servedByLabel } from './catalog-page.js';
import { html, jsonScript, type Html } from './html.js';

/** What the page's script needs to build the try-it form and read the answers; all of it public. */
export interface ServicePageData {
  serviceId: string;
  tool: string;
  title: string;
  async: Capability['async'];
  price: Capability['price'];
  payments: 'required' | 'off';
  available: boolean;
  servedBy: string[];
  inputSchema: Record<string, unknown>;
  images: Record<string, { role: string; purpose?: string; formats: readonly string[]; maxBytes: number; minSide?: number; maxSide?: number; maxAspectRatio?: number }>;
}

interface Example {
  id: string;
  title: string;
  note: Html | string;
  code: string;
}

const json = (value: unknown) => JSON.stringify(value, null, 2);

/** curl, MCP config, the MCP TypeScript client, x402 and a raw tools/call: each ready to paste, for this tool. */
function examplesOf(capability: Capability, baseUrl: string, paid: boolean): Example[] {
  const example = exampleArguments(capability);
  const endpoint = `${baseUrl}/api/tools/${capability.serviceId}`;
  const tokenHeader = paid ? ` \\\n  -H "X-Payment-Token: $IMAGESEG_TOKEN"` : '';
  const imageFields = Object.keys(capability.images);
  const files = imageFields.map((field) => `-F ${field}=@${capability.images[field]?.role === 'mask' ? 'mask' : capability.images[field]?.role === 'replacement' ? 'sky' : 'photo'}.jpg`);
  const examples: Example[] = [];
  if (files.length > 0) {
    examples.push({
      id: 'curl-upload',
      title: 'curl: upload a file',
      note: html`Answers JSON; add <code>-H 'Accept: image/png' -o result.png</code> to get the image itself.`,
      code: `curl -X POST ${endpoint}${tokenHeader} \\\n  ${files.join(' ')}`,
    });
  }
  examples.push({
    id: 'curl-json',
    title: 'curl: JSON',
    note: imageFields.length > 0 ? 'Images as http(s) URLs, data: URLs or base64.' : 'The parameters as JSON.',
    code: `curl -X POST ${endpoint} \\\n  -H 'Content-Type: application/json'${tokenHeader} \\\n  -d '${JSON.stringify(example)}'`,
  });
  examples.push({
    id: 'mcp-config',
    title: 'MCP client configuration (mcp.json)',
    note: paid ? html`The <code>X-Payment-Token</code> header pays tool calls that carry no <code>paymentToken</code> argument.` : 'Streamable HTTP; the same server over stdio is in the repository’s mcp.json.',
    code: json({ mcpServers: { imageseg: { type: 'http', url: `${baseUrl}/mcp`, ...(paid ? { headers: { 'X-Payment-Token': '<payment token>' } } : {}) } } }),
  });
  const mcpArguments = { ...example, ...(paid ? { paymentToken: '__TOKEN__' } : {}) };
  examples.push({
    id: 'typescript',
    title: 'TypeScript with the MCP client',
    note: html`<code>npm install @modelcontextprotocol/client</code>`,
    code: [
      `import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';`,
      '',
      `const client = new Client({ name: 'my-app', version: '1.0.0' });`,
      `await client.connect(new StreamableHTTPClientTransport(new URL('${baseUrl}/mcp')));`,
      `const result = await client.callTool({`,
      `  name: '${capability.tool}',`,
      `  arguments: ${JSON.stringify(mcpArguments).replace('"__TOKEN__"', 'process.env.IMAGESEG_TOKEN')},`,
      `});`,
      `console.log(result.structuredContent);`,
    ].join('\n'),
  });
  examples.push({
    id: 'x402',
    title: 'x402 from a wallet, with @x402/fetch',
    note: paid
      ? html`<code>npm install @x402/fetch @x402/evm viem</code>: the wrapped fetch reads the 402 answer, signs the USDC payment and retries.`
      : html`This server runs with <code>PAYMENTS=off</code>, so nothing is paid here; this is how a paid server is called. <code>npm install @x402/fetch @x402/evm viem</code>`,
    code: [
      `import { wrapFetchWithPayment, x402Client } from '@x402/fetch';`,
      `import { registerExactEvmScheme } from '@x402/evm/exact/client';`,
      `import { privateKeyToAccount } from 'viem/accounts';`,
      '',
      `const client = new x402Client();`,
      `registerExactEvmScheme(client, { signer: privateKeyToAccount(process.env.EVM_PRIVATE_KEY as \`0x\${string}\`) });`,
      `const fetchWithPayment = wrapFetchWithPayment(fetch, client);`,
      '',
      `const response = await fetchWithPayment('${endpoint}', {`,
      `  method: 'POST',`,
      `  headers: { 'Content-Type': 'application/json' },`,
      `  body: JSON.stringify(${JSON.stringify(example)}),`,
      `});`,
      `console.log(await response.json());`,
    ].join('\n'),
  });
  examples.push({
    id: 'mcp-call',
    title: 'MCP tools/call (JSON-RPC)',
    note: html`What a client sends to <code>${baseUrl}/mcp</code>.`,
    code: json({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: capability.tool, arguments: { ...example, ...(paid ? { paymentToken: '<payment token>' } : {}) } } }),
  });
  return examples;
}

function pageData(context: AppContext, capability: Capability): ServicePageData {
  const images: ServicePageData['images'] = {};
  for (const [field, image] of Object.entries(capability.images)) {
    if (!image) continue;
    const { notes: _notes, ...limits } = image;
    images[field] = limits;
  }
  return {
    serviceId: capability.serviceId,
    tool: capability.tool,
    title: capability.title,
    async: capability.async,
    price: capability.price,
    payments: context.config.payments,
    available: context.providers.available(capability),
    servedBy: context.providers.servedBy(capability),
    inputSchema: inputJsonSchemaOf(capability),
    images,
  };
}

/**
 * /services/<serviceId>: what the tool does, its price, where it runs, example requests, input and output schemas
 * (all readable without the script), and the try-it form the script builds from the input schema.
 */
export function servicePage(context: AppContext, capability: Capability): { main: Html; data: Html } {
  const { config, providers } = context;
  const baseUrl = config.publicBaseUrl;
  const available = providers.available(capability);
  const paid = capability.price !== null && config.payments !== 'off';
  const endpoint = `${baseUrl}/api/tools/${capability.serviceId}`;
  const examples = examplesOf(capability, baseUrl, paid);
  const description = describeCapability(capability, available, { payments: config.payments !== 'off', provider: providers.active });
  const main = html`<nav class="breadcrumb" aria-label="Breadcrumb"><a href="/">Catalog</a> <span aria-hidden="true">›</span> <span>${capability.title}</span></nav>
<h1>${capability.title}</h1>
<ul class="facts facts-large" aria-label="Facts">
<li class="fact-price">${priceText(capability, config.payments)}</li>
<li class="fact-kind">${KIND_NAMES[capability.kind]}</li>
<li class="fact-async">${capability.async === 'always' ? 'async job: the call waits for it' : capability.async === 'optional' ? 'sync, or an async job with Async=true' : 'sync'}</li>
<li class="fact-provider">${servedByLabel(providers.servedBy(capability))}</li>
</ul>
<p class="description">${description}</p>
<section class="try-it" aria-labelledby="try-it-heading">
<h2 id="try-it-heading">Try it</h2>
<div id="try-it">
<p>${available ? 'The form to try this tool on your own image needs JavaScript; the requests below work from any terminal.' : 'This tool does not run on this server: it needs Alibaba Cloud credentials (ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET).'}</p>
</div>
</section>
<section aria-labelledby="examples-heading">
<h2 id="examples-heading">Example requests</h2>
${paid ? html`<p>Paid calls carry a payment token (<code>X-Payment-Token</code> header or the MCP <code>paymentToken</code> argument; the operator mints one with <code>imageseg-mcp tokens mint --service ${capability.serviceId}</code>, anyone may buy one at <code>POST /api/payments</code>) or an x402 payment.</p>` : ''}
${examples.map((example) => html`<div class="example" id="example-${example.id}">
<h3>${example.title}</h3>
<p class="example-note">${example.note}</p>
<pre><code>${example.code}</code></pre>
</div>
`)}
</section>
<section aria-labelledby="reference-heading">
<h2 id="reference-heading">Reference</h2>
<dl class="reference">
<dt>Service ID</dt><dd><code>${capability.serviceId}</code>${capability.legacyIds.length > 0 ? html` (legacy: ${capability.legacyIds.map((id, index) => html`${index > 0 ? ', ' : ''}<code>${id}</code>`)})` : ''}</dd>
<dt>Endpoint</dt><dd><code>POST ${endpoint}</code></dd>
<dt>MCP tool</dt><dd><code>${capability.tool}</code> at <code>${baseUrl}/mcp</code></dd>
<dt>Alibaba Action</dt><dd><code>${capability.action}</code></dd>
</dl>
<details class="schema" open>
<summary><h3>Input schema</h3></summary>
<pre><code>${json(inputJsonSchemaOf(capability))}</code></pre>
</details>
<details class="schema">
<summary><h3>Output schema</h3></summary>
<p>Every answer has this shape; a successful one looks like this:</p>
<pre><code>${json(exampleOutput(capability))}</code></pre>
<pre><code>${json(jsonSchemaOf(toolOutputSchema))}</code></pre>
</details>
<p><a href="/openapi.json">OpenAPI</a> · <a href="/api/catalog/search?q=${encodeURIComponent(capability.serviceId)}">Catalog entry (JSON)</a></p>
</section>
`;
  return { main, data: jsonScript('service-data', pageData(context, capability)) };
}
