import { describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { loadConfig } from '../src/config.js';
import { createAppContext } from '../src/app.js';
import { createLogger } from '../src/logger.js';
import { createMcpServer } from '../src/mcp/server.js';
import { capabilities } from '../tools/index.js';

/** tools/list as an MCP client sees it, from the real McpServer over an in-memory pair: no process, no port. */
async function listTools(environment: Record<string, string>) {
  const config = loadConfig({ DATABASE_URL: ':memory:', LOG_LEVEL: 'silent', ...environment }, { transport: 'http' });
  const server = createMcpServer(createAppContext(config, createLogger('silent')));
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  const client = new Client({ name: 'listing-test', version: '1.0.0' });
  await Promise.all([server.connect(serverSide), client.connect(clientSide)]);
  try {
    return (await client.listTools()).tools;
  } finally {
    await client.close();
  }
}

const ALIBABA = { ALIBABA_CLOUD_ACCESS_KEY_ID: 'id', ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'secret' };

describe('tools/list', () => {
  it('offers every tool with a paymentToken and its price when payments are required', async () => {
    const tools = await listTools({ ...ALIBABA, PAYMENTS: 'required' });
    expect(tools).toHaveLength(capabilities.length + 1);
    for (const capability of capabilities) {
      const tool = tools.find((listed) => listed.name === capability.tool)!;
      if (capability.price) {
        expect(tool.inputSchema.properties, capability.tool).toHaveProperty('paymentToken');
        expect(tool.description, capability.tool).toContain(`USD ${capability.price.amount}`);
      } else {
        expect(tool.inputSchema.properties, capability.tool).not.toHaveProperty('paymentToken');
      }
    }
    expect(tools.find((tool) => tool.name === 'batch_segmentation')!.inputSchema.properties).toHaveProperty('paymentToken');
  });

  it('has no payment field and no price anywhere under PAYMENTS=off, batch_segmentation included', async () => {
    const tools = await listTools({ ...ALIBABA, PAYMENTS: 'off' });
    const listed = JSON.stringify(tools);
    expect(listed).not.toContain('paymentToken');
    expect(listed).not.toMatch(/USD \d/);
  });
});
