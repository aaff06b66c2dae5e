import { McpServer, ResourceTemplate } from '@modelcontextprotocol/sdk/server/mcp.js';
import { McpError, ErrorCode } from '@modelcontextprotocol/sdk/types.js';
import type { ResultStore } from '../results/result-store.js';
import { RESULT_RESOURCE_BASE } from '../results/result-store.js';
import { readResultView, RESULT_VIEW_RESOURCE } from './result-view.js';

/** The stored results' resource template, as both protocol generations list it. */
export const RESULT_TEMPLATE = {
  uriTemplate: `${RESULT_RESOURCE_BASE}/results/{id}`,
  name: 'result',
  title: 'Result image',
  description: 'A result image of an earlier call, kept for IMAGESEG_RESULT_TTL',
};

/** resources/read of a stored result: its bytes as a blob, or undefined when the id is unknown or expired. */
export async function storedResultContents(results: ResultStore, uri: string, id: string) {
  const stored = await results.load(id);
  return stored ? { contents: [{ uri, mimeType: stored.mimeType, blob: stored.bytes.toString('base64') }] } : undefined;
}

/**
 * Stored results as MCP resources, so every resource_link in an answer resolves with resources/read (over stdio no
 * HTTP server serves /results), and the MCP App view reads its images through the host. And the view itself.
 */
export function registerResultResources(server: McpServer, results: ResultStore): void {
  const { uri, name, ...metadata } = RESULT_VIEW_RESOURCE;
  server.registerResource(name, uri, metadata, () => readResultView());
  const { uriTemplate, name: templateName, ...templateMetadata } = RESULT_TEMPLATE;
  server.registerResource(templateName, new ResourceTemplate(uriTemplate, { list: undefined }), templateMetadata, async (uri, variables) => {
    const id = String(variables.id);
    const read = await storedResultContents(results, uri.href, id);
    if (!read) throw new McpError(ErrorCode.InvalidParams, `No result ${id}: unknown or expired`);
    return read;
  });
}
