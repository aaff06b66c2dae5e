import { Client as ModernClient, StreamableHTTPClientTransport as ModernTransport } from '@modelcontextprotocol/client';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

const MCP_2025 = '2025-11-25';
const MCP_2026 = '2026-07-28';

/** What the bench reads of a tool result, whichever SDK generation answered it. */
export interface ToolResult {
  isError?: boolean;
  content?: unknown;
  structuredContent?: unknown;
}

export interface McpHttpClient {
  /** The protocol version the connection negotiated, checked to be the one asked for. */
  readonly protocolVersion: string;
  call(name: string, args: Record<string, unknown>): Promise<ToolResult>;
  close(): Promise<void>;
}

const CLIENT_INFO = { name: 'imageseg-bench', version: '1.0.0' };
const CALL_OPTIONS = { timeout: 120_000 };
const endpoint = (serverUrl: string) => new URL('/mcp', serverUrl);

/** A connected SDK client of either generation, seen through what the bench needs of it. */
interface Connection {
  negotiated: string | undefined;
  callTool(params: { name: string; arguments: Record<string, unknown> }): Promise<ToolResult>;
  close(): Promise<void>;
}

/**
 * The one place both generations meet: a connection on any other version than the one asked for fails the bench
 * (a silent fallback would measure the other generation under this one's name), and a tool error is thrown.
 */
async function verified(protocolVersion: string, connection: Connection): Promise<McpHttpClient> {
  if (connection.negotiated !== protocolVersion) {
    await connection.close();
    throw new Error(`the MCP client negotiated ${connection.negotiated ?? 'no protocol version'}, not ${protocolVersion}`);
  }
  return {
    protocolVersion,
    async call(name, args) {
      const result = await connection.callTool({ name, arguments: args });
      if (result.isError) throw new Error(`${name} failed: ${JSON.stringify(result.structuredContent ?? result.content).slice(0, 400)}`);
      return result;
    },
    close: () => connection.close(),
  };
}

/** MCP 2025-11-25 with the v1 SDK client, as an agent of that generation connects: initialize once, then tools/call. */
export async function connectMcp2025(serverUrl: string): Promise<McpHttpClient> {
  const client = new Client(CLIENT_INFO);
  const transport = new StreamableHTTPClientTransport(endpoint(serverUrl));
  await client.connect(transport);
  return verified(MCP_2025, {
    negotiated: transport.protocolVersion,
    callTool: (params) => client.callTool(params, undefined, CALL_OPTIONS) as Promise<ToolResult>,
    close: () => client.close(),
  });
}

/**
 * MCP 2026-07-28 with the v2 SDK client: no session, the version, client info and capabilities in every request's
 * `_meta`. The v2 client stays on 2025-11-25 unless told otherwise, so it is pinned: connect fails if the server
 * does not offer 2026-07-28.
 */
export async function connectMcp2026(serverUrl: string): Promise<McpHttpClient> {
  const client = new ModernClient(CLIENT_INFO, { versionNegotiation: { mode: { pin: MCP_2026 } } });
  await client.connect(new ModernTransport(endpoint(serverUrl)));
  return verified(MCP_2026, {
    negotiated: client.getProtocolEra() === 'modern' ? client.getNegotiatedProtocolVersion() : `${client.getNegotiatedProtocolVersion()} (legacy era)`,
    callTool: (params) => client.callTool(params, CALL_OPTIONS),
    close: () => client.close(),
  });
}

export function structuredData(result: ToolResult): Record<string, unknown> {
  const output = result.structuredContent as { data?: Record<string, unknown> } | undefined;
  return output?.data ?? {};
}
