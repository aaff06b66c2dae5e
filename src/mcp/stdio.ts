import type { AppContext } from '../app.js';
import { largestRequestBytes } from '../catalog/request-size.js';
import { LineTransport } from './line-transport.js';
import { createMcpServer } from './server.js';
import { registerResultResources } from './result-resources.js';

/**
 * MCP over stdio: stdout carries JSON-RPC only; every log line goes to stderr. One message may be as large as the
 * largest tool input (its images as base64); a larger one is answered with a JSON-RPC error, and serving goes on.
 */
export async function serveStdio(context: AppContext): Promise<void> {
  const server = createMcpServer(context);
  registerResultResources(server, context.results);
  const maxMessageBytes = largestRequestBytes(context.catalog.capabilities);
  const transport = new LineTransport(process.stdin, process.stdout, maxMessageBytes);
  transport.onerror = (error) => context.logger.warn({ err: error.message }, `stdio: ${error.message}`);
  process.stdin.once('end', () => context.logger.info('stdin closed: the client has gone'));
  await server.connect(transport);
  context.logger.info({ provider: context.providers.active, tools: context.catalog.capabilities.filter((capability) => context.config.listAllTools || context.providers.available(capability)).length, maxMessageBytes }, 'MCP server ready on stdio');
}
