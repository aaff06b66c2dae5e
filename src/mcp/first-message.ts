import { PassThrough, type Readable } from 'node:stream';

/**
 * The first line of a newline-delimited JSON-RPC stream, and the whole stream again (that line included) to hand to
 * whichever server serves it. `undefined` when the stream ends before a line does, or the line runs past
 * `maxBytes` (the server it goes to refuses it without holding it).
 */
export function peekFirstLine(input: Readable, maxBytes: number): Promise<{ first: string | undefined; stream: Readable }> {
  const stream = new PassThrough();
  const chunks: Buffer[] = [];
  let bytes = 0;
  return new Promise((resolve) => {
    const handOver = (first: string | undefined) => {
      input.off('data', onData);
      input.off('end', onEnd);
      input.pause();
      stream.write(Buffer.concat(chunks));
      input.pipe(stream);
      resolve({ first, stream });
    };
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      bytes += chunk.length;
      const end = chunk.indexOf(10);
      if (end !== -1) handOver(Buffer.concat(chunks).subarray(0, bytes - chunk.length + end).toString('utf8'));
      else if (bytes > maxBytes) handOver(undefined);
    };
    const onEnd = () => {
      stream.end(Buffer.concat(chunks));
      resolve({ first: undefined, stream });
    };
    input.on('data', onData);
    input.once('end', onEnd);
  });
}

/**
 * Whether a stdio client speaks MCP 2026-07-28: its first message carries the `_meta` envelope's protocol version
 * (as the v2 SDK tells the generations apart); a 2025-11-25 client opens with a plain `initialize`.
 */
export function opensModernSession(first: string | undefined): boolean {
  try {
    const message = JSON.parse(first ?? '') as { params?: { _meta?: Record<string, unknown> } } | null;
    return typeof message?.params?._meta?.['io.modelcontextprotocol/protocolVersion'] === 'string';
  } catch {
    return false;
  }
}
