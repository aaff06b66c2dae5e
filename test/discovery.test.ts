import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Wallet } from 'ethers';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { decodePaymentRequiredHeader } from '@x402/core/http';
import { extractDiscoveryInfo, validateDiscoveryExtension, validateDiscoveryExtensionSpec, type DiscoveryExtension } from '@x402/extensions/bazaar';
import { startTestServer, type TestServer } from './support/server.js';
import { capabilities } from '../tools/index.js';
import { registryEntryOf } from '../src/catalog/registry-entry.js';

const require = createRequire(import.meta.url);
const Ajv = require('ajv').default as typeof import('ajv').default;
const addFormats = require('ajv-formats').default as typeof import('ajv-formats').default;

const manifest = JSON.parse(readFileSync('package.json', 'utf8')) as { name: string; version: string; mcpName: string; files: string[] };
const PAY_TO = new Wallet(Wallet.createRandom().privateKey).address;
const PAID = capabilities.filter((capability) => capability.price);

let server: TestServer;
let client: Client;

beforeAll(async () => {
  // Credentials that are never used: every tool is served, and unpaid calls stop at the 402 before any provider work.
  server = await startTestServer({
    ALIBABA_CLOUD_ACCESS_KEY_ID: 'unused-id',
    ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'unused-secret',
    IMAGESEG_ENDPOINT: '127.0.0.1:9',
    PAYMENTS: 'required',
    X402_PAY_TO: PAY_TO,
    X402_FACILITATOR_URL: 'http://127.0.0.1:9',
  });
  client = new Client({ name: 'imageseg-test', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${server.url}/mcp`)));
});

afterAll(async () => {
  await client?.close();
  await server?.close();
});

function expectValidBazaar(extension: unknown, type: 'http' | 'mcp') {
  const bazaar = extension as DiscoveryExtension;
  expect(validateDiscoveryExtension(bazaar)).toEqual({ valid: true });
  expect(validateDiscoveryExtensionSpec(bazaar as unknown as Record<string, unknown>)).toEqual({ valid: true });
  expect(bazaar.info.input.type).toBe(type);
  expect(bazaar.info.output?.example).toBeTruthy();
}

describe('the MCP server card', () => {
  it('lists every tool of tools/list with its title and price, the /mcp endpoint and the payment methods', async () => {
    const response = await fetch(`${server.url}/.well-known/mcp/server-card.json`);
    expect(response.status).toBe(200);
    const card = (await response.json()) as Record<string, any>;
    const { tools } = await client.listTools();
    expect(card.tools.map((tool: { name: string }) => tool.name).sort()).toEqual(tools.map((tool) => tool.name).sort());
    for (const capability of capabilities) {
      const tool = card.tools.find((entry: { name: string }) => entry.name === capability.tool);
      expect(tool.title).toBe(capability.title);
      expect(tool.price?.amount ?? null).toBe(capability.price?.amount ?? null);
      expect(tool.inputSchema.type).toBe('object');
    }
    expect(card.serverInfo).toMatchObject({ name: manifest.name, version: manifest.version });
    expect(card.transport).toEqual({ type: 'streamable-http', endpoint: '/mcp', url: `${server.url}/mcp` });
    expect(card.payments.methods.map((method: { type: string }) => method.type)).toEqual(['payment-token', 'x402']);
    expect(card.payments.methods[1]).toMatchObject({ accepted: true, payTo: PAY_TO, network: 'eip155:84532' });
  });
});

describe('server.json, the MCP registry entry', () => {
  const entry = JSON.parse(readFileSync('server.json', 'utf8')) as Record<string, any>;

  it('validates against the registry JSON Schema', () => {
    const schema = JSON.parse(readFileSync('test/schemas/server.schema.json', 'utf8'));
    const ajv = new Ajv({ strict: false, allErrors: true });
    addFormats(ajv);
    const validate = ajv.compile(schema);
    expect(validate(entry), JSON.stringify(validate.errors)).toBe(true);
    expect(validate({ ...entry, description: 'x'.repeat(101) })).toBe(false);
  });

  it('is current: generated from package.json and the catalog (npm run server-json)', () => {
    const tools = [...capabilities.map((capability) => capability.tool), 'batch_segmentation'];
    expect(entry).toEqual(registryEntryOf(manifest, tools));
    expect(entry.name).toBe(manifest.mcpName);
    expect(entry.version).toBe(manifest.version);
    expect(entry.packages[0]).toMatchObject({ registryType: 'npm', identifier: manifest.name, version: manifest.version, transport: { type: 'stdio' } });
    expect(entry.remotes[0].type).toBe('streamable-http');
  });
});

describe('x402 Bazaar metadata in every 402 answer', () => {
  it('describes each paid REST endpoint: POST, its JSON body and schema, an example answer', async () => {
    for (const capability of PAID) {
      const body = Object.fromEntries(Object.keys(capability.images).map((field) => [field, 'https://example.com/a.jpg']));
      const response = await fetch(`${server.url}/api/tools/${capability.serviceId}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      expect(response.status, capability.serviceId).toBe(402);
      const required = decodePaymentRequiredHeader(response.headers.get('payment-required')!);
      const bazaar = required.extensions!.bazaar as DiscoveryExtension;
      expectValidBazaar(bazaar, 'http');
      expect(bazaar.info.input).toMatchObject({ type: 'http', method: 'POST', bodyType: 'json' });
      // What a facilitator does with a payment that echoes the extensions: the resource is listed.
      const discovered = extractDiscoveryInfo({ x402Version: 2, resource: required.resource, accepted: required.accepts[0], payload: {}, extensions: required.extensions }, required.accepts[0]);
      expect(discovered?.resourceUrl).toBe(`${server.url}/api/tools/${capability.serviceId}`);
    }
  });

  it('describes the batch route and the token route the same way', async () => {
    const batch = await fetch(`${server.url}/api/batch/product-background-removal`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ items: [{ ImageURL: 'https://example.com/a.jpg' }] }) });
    expect(batch.status).toBe(402);
    const batchBazaar = ((await batch.json()) as { extensions: { bazaar: DiscoveryExtension } }).extensions.bazaar;
    expectValidBazaar(batchBazaar, 'http');
    expect((batchBazaar.info.input as unknown as { body: { items: unknown[] } }).body.items.length).toBeGreaterThan(0);
    const token = await fetch(`${server.url}/api/payments`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ serviceId: 'product-background-removal' }) });
    expect(token.status).toBe(402);
    expectValidBazaar(((await token.json()) as { extensions: { bazaar: unknown } }).extensions.bazaar, 'http');
  });

  it('describes the MCP tool over MCP: its name, input schema and an example', async () => {
    const result = (await client.callTool({ name: 'product_background_removal', arguments: { ImageURL: 'https://example.com/a.jpg' } })) as CallToolResult;
    expect(result.isError).toBe(true);
    const bazaar = (result.structuredContent as { extensions: { bazaar: DiscoveryExtension } }).extensions.bazaar;
    expectValidBazaar(bazaar, 'mcp');
    expect(bazaar.info.input).toMatchObject({ type: 'mcp', toolName: 'product_background_removal', transport: 'streamable-http' });
    expect((bazaar.info.input as unknown as { inputSchema: { properties: Record<string, unknown> } }).inputSchema.properties).toHaveProperty('ImageURL');
    const batch = (await client.callTool({ name: 'batch_segmentation', arguments: { tool: 'product_background_removal', items: [{ ImageURL: 'https://example.com/a.jpg' }] } })) as CallToolResult;
    const batchBazaar = (batch.structuredContent as { extensions: { bazaar: DiscoveryExtension } }).extensions.bazaar;
    expectValidBazaar(batchBazaar, 'mcp');
    expect(batchBazaar.info.input).toMatchObject({ toolName: 'batch_segmentation' });
  });
});
