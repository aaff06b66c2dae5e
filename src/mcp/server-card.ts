import { LATEST_PROTOCOL_VERSION } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import type { Catalog } from '../catalog/lookup.js';
import { inputShapeOf, jsonSchemaOf, toolOutputSchema } from '../catalog/schemas.js';
import { priceLabel } from '../catalog/describe.js';
import type { ProviderRegistry } from '../providers/index.js';
import { PRODUCT_NAME, PRODUCT_VERSION } from '../version.js';
import { BATCH_TOOL, batchDescription, batchInputShape } from './batch-tool.js';
import { describeTool } from './describe.js';

export interface ServerCardContext {
  catalog: Catalog;
  providers: ProviderRegistry;
  baseUrl: string;
  /** x402 accepted: where to and on which network; undefined while X402_PAY_TO is unset. */
  x402?: { network: string; asset: string; payTo: string };
  payments: 'required' | 'off';
}

/**
 * The MCP server card (`/.well-known/mcp/server-card.json`, SEP-1649): who the server is, where its streamable HTTP
 * endpoint is, every tool with its title, schema and price, and how to pay, so agents and marketplaces can list it
 * without connecting. Built from the catalog as tools/list is.
 */
export function serverCardOf(context: ServerCardContext): Record<string, unknown> {
  const { catalog, providers, baseUrl } = context;
  const output = jsonSchemaOf(toolOutputSchema);
  const tools: Array<Record<string, unknown>> = catalog.capabilities.map((capability) => {
    const { name, config } = describeTool(capability, providers);
    return {
      name,
      title: config.title,
      description: config.description,
      inputSchema: jsonSchemaOf(z.object(inputShapeOf(capability))),
      outputSchema: output,
      annotations: config.annotations,
      price: capability.price ? { ...capability.price, label: priceLabel(capability) } : null,
      rest: `${baseUrl}/api/tools/${capability.serviceId}`,
      _meta: config._meta,
    };
  });
  tools.push({
    name: BATCH_TOOL,
    title: 'Batch segmentation',
    description: batchDescription,
    inputSchema: jsonSchemaOf(z.object(batchInputShape(catalog))),
    outputSchema: output,
    annotations: { title: 'Batch segmentation', readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
    price: null,
    rest: `${baseUrl}/api/batch/{serviceId}`,
    _meta: { price: 'the items times the price of the tool they call' },
  });
  return {
    $schema: 'https://static.modelcontextprotocol.io/schemas/mcp-server-card/v1.json',
    version: '1.0',
    protocolVersion: LATEST_PROTOCOL_VERSION,
    serverInfo: { name: PRODUCT_NAME, title: 'Image segmentation (Alibaba imageseg)', version: PRODUCT_VERSION },
    description: 'Paid image segmentation for agents and programs: background removal, masks, body, face, hair, sky and product segmentation, mask refinement.',
    transport: { type: 'streamable-http', endpoint: '/mcp', url: `${baseUrl}/mcp` },
    remotes: [{ type: 'streamable-http', url: `${baseUrl}/mcp` }],
    capabilities: { tools: { listChanged: false }, tasks: { requests: { tools: { call: {} } } } },
    tools,
    payments: {
      required: context.payments === 'required',
      methods: [
        { type: 'payment-token', http: { header: 'X-Payment-Token' }, mcp: { argument: 'paymentToken' }, buy: { method: 'POST', url: `${baseUrl}/api/payments`, body: { serviceId: '<serviceId>' } } },
        {
          type: 'x402',
          x402Versions: [2, 1],
          accepted: Boolean(context.x402),
          ...(context.x402 ? { scheme: 'exact', network: context.x402.network, asset: context.x402.asset, payTo: context.x402.payTo } : {}),
          http: { header: 'PAYMENT-SIGNATURE', v1Header: 'X-PAYMENT' },
          mcp: { meta: 'x402/payment' },
        },
      ],
    },
    links: { openapi: `${baseUrl}/openapi.json`, catalog: `${baseUrl}/api/catalog/search?q=`, batch: `${baseUrl}/api/batch/{serviceId}` },
  };
}
