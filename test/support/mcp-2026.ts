/** MCP 2026-07-28 on the wire, for what the stock v2 client will not show (`payment_required`, `task` results, headers). */
export const PROTOCOL_2026 = '2026-07-28';

export interface JsonRpcAnswer {
  status: number;
  message: { id?: unknown; result?: Record<string, unknown>; error?: { code: number; message: string; data?: unknown } };
}

const nameOf = (method: string, params: Record<string, unknown>) =>
  method === 'tools/call' || method === 'prompts/get' ? params.name : method === 'resources/read' ? params.uri : method.startsWith('tasks/') ? params.taskId : undefined;

let nextId = 1;

/**
 * One JSON-RPC request as a 2026-07-28 client sends it: the `_meta` envelope (protocol version, client info, client
 * capabilities with `extensions`) and the MCP-Protocol-Version / Mcp-Method / Mcp-Name headers, which `headers` may
 * override. Reads a JSON or an SSE answer.
 */
export async function call2026(
  url: string,
  method: string,
  params: Record<string, unknown> = {},
  options: { extensions?: Record<string, unknown>; headers?: Record<string, string> } = {},
): Promise<JsonRpcAnswer> {
  const id = nextId++;
  const meta = {
    ...(params._meta as Record<string, unknown> | undefined),
    'io.modelcontextprotocol/protocolVersion': PROTOCOL_2026,
    'io.modelcontextprotocol/clientInfo': { name: 'wire-test', version: '1.0.0' },
    'io.modelcontextprotocol/clientCapabilities': { extensions: options.extensions ?? {} },
  };
  const name = nameOf(method, params);
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': PROTOCOL_2026,
      'mcp-method': method,
      ...(typeof name === 'string' ? { 'mcp-name': name } : {}),
      ...options.headers,
    },
    body: JSON.stringify({ jsonrpc: '2.0', id, method, params: { ...params, _meta: meta } }),
  });
  const text = await response.text();
  if (!response.headers.get('content-type')?.includes('text/event-stream')) return { status: response.status, message: JSON.parse(text) as JsonRpcAnswer['message'] };
  const messages = text
    .split('\n')
    .filter((line) => line.startsWith('data:'))
    .map((line) => JSON.parse(line.slice(5)) as JsonRpcAnswer['message']);
  return { status: response.status, message: messages.find((message) => message.id === id) ?? messages.at(-1)! };
}
