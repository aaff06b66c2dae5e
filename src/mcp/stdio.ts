import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { AppContext } from '../app.js';
import { createMcpServer } from './server.js';

/** MCP over stdio: stdout carries JSON-RPC only; every log line goes to stderr. */
export async function serveStdio(context: AppContext): Promise<void> {
  const server = createMcpServer(context);
  const transport = new StdioServerTransport();
  await server.connect(transport);
  context.logger.info({ provider: context.providers.active, tools: context.catalog.capabilities.length }, 'MCP server ready on stdio');
}
