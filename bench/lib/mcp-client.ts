import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';

export interface McpHttpClient {
  call(name: string, args: Record<string, unknown>): Promise<CallToolResult>;
  close(): Promise<void>;
}

/** The official MCP client over streamable HTTP, as an agent would connect (initialize once, then tools/call). */
export async function connectMcp(serverUrl: string): Promise<McpHttpClient> {
  const client = new Client({ name: 'imageseg-bench', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL('/mcp', serverUrl)));
  return {
    async call(name, args) {
      const result = (await client.callTool({ name, arguments: args }, undefined, { timeout: 120_000 })) as CallToolResult;
      if (result.isError) throw new Error(`${name} failed: ${JSON.stringify(result.structuredContent ?? result.content).slice(0, 400)}`);
      return result;
    },
    close: () => client.close(),
  };
}

export function structuredData(result: CallToolResult): Record<string, unknown> {
  const output = result.structuredContent as { data?: Record<string, unknown> } | undefined;
  return output?.data ?? {};
}
