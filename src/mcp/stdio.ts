import type { Readable } from 'node:stream';
import { serveStdio as serveModernStdio, StdioServerTransport } from '@modelcontextprotocol/server/stdio';
import type { AppContext } from '../app.js';
import { largestRequestBytes } from '../catalog/request-size.js';
import { LineTransport } from './line-transport.js';
import { createMcpServer } from './server.js';
import { createModernServer } from './modern-server.js';
import { opensModernSession, peekFirstLine } from './first-message.js';

/** A 2025-11-25 client: the v1 SDK server over our line transport. */
async function serveLegacyStdio(context: AppContext, input: Readable, maxMessageBytes: number): Promise<void> {
  const server = createMcpServer(context);
  const transport = new LineTransport(input, process.stdout, maxMessageBytes);
  transport.onerror = (error) => context.logger.warn({ err: error.message }, `stdio: ${error.message}`);
  await server.connect(transport);
}

/**
 * MCP over stdio: stdout carries JSON-RPC only; every log line goes to stderr. The first message says which
 * protocol generation the client speaks: a 2026-07-28 client (its `_meta` envelope) is served by the v2 SDK, one
 * server for the connection; any other by the v1 SDK. One message may be as large as the largest tool input (its
 * images as base64); for a 2025 client a larger one is answered with a JSON-RPC error, and serving goes on.
 */
export function serveStdio(context: AppContext): void {
  const maxMessageBytes = largestRequestBytes(context.catalog.capabilities);
  process.stdin.once('end', () => context.logger.info('stdin closed: the client has gone'));
  context.logger.info({ provider: context.providers.active, tools: context.catalog.capabilities.filter((capability) => context.config.listAllTools || context.providers.available(capability)).length, maxMessageBytes }, 'MCP server ready on stdio');
  const serve = async ({ first, stream }: Awaited<ReturnType<typeof peekFirstLine>>) => {
    if (!opensModernSession(first)) return serveLegacyStdio(context, stream, maxMessageBytes);
    serveModernStdio(() => createModernServer(context), {
      transport: new StdioServerTransport(stream, process.stdout, { maxBufferSize: maxMessageBytes }),
      onerror: (error) => context.logger.warn({ err: error.message }, `stdio: ${error.message}`),
    });
  };
  void peekFirstLine(process.stdin, maxMessageBytes)
    .then(serve)
    .catch((error: unknown) => context.logger.error({ err: error }, 'stdio: could not start serving'));
}
