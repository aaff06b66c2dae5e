import { McpServer, ResourceTemplate } from '@modelcontextprotocol/sdk/server/mcp.js';
import { McpError, ErrorCode } from '@modelcontextprotocol/sdk/types.js';
import type { ResultStore } from '../results/result-store.js';
import { RESULT_RESOURCE_BASE } from '../results/result-store.js';
import { readResultView, RESULT_VIEW_RESOURCE } from './result-view.js';

/**
 * Stored results as MCP resources, so every resource_link in an answer resolves with resources/read (over stdio no
 * HTTP server serves /results), and the MCP App view reads its images through the host. And the view itself.
 */
export function registerResultResources(server: McpServer, results: ResultStore): void {
  const { uri, name, ...metadata } = RESULT_VIEW_RESOURCE;
  server.registerResource(name, uri, metadata, () => readResultView());
  server.registerResource(
    'result',
    new ResourceTemplate(`${RESULT_RESOURCE_BASE}/results/{id}`, { list: undefined }),
    { title: 'Result image', description: 'A result image of an earlier call, kept for IMAGESEG_RESULT_TTL' },
    async (uri, variables) => {
      const id = String(variables.id);
      const stored = await results.load(id);
      if (!stored) throw new McpError(ErrorCode.InvalidParams, `No result ${id}: unknown or expired`);
      return { contents: [{ uri: uri.href, mimeType: stored.mimeType, blob: stored.bytes.toString('base64') }] };
    },
  );
}
