import type { Readable, Writable } from 'node:stream';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { JSONRPCMessageSchema, type JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';

type RequestId = string | number | null;

/** How much of a refused line's start and end is kept to find its id. */
const EDGE_BYTES = 4096;

/**
 * The id of a message too large to parse, from its edges: `{"jsonrpc":"2.0","id":7,...` at the start, or
 * `...,"id":7}` at the very end (the SDK client writes the id last). Only a top-level id can sit there.
 */
function idAtEdges(head: string, tail: string): RequestId {
  const value = '(-?\\d+|"(?:[^"\\\\]|\\\\.)*")';
  const atStart = new RegExp(`^\\s*\\{(?:\\s*"(?:jsonrpc|method)"\\s*:\\s*"[^"\\\\]*"\\s*,)*\\s*"id"\\s*:\\s*${value}`).exec(head);
  const atEnd = new RegExp(`[,{]\\s*"id"\\s*:\\s*${value}\\s*\\}\\s*$`).exec(tail);
  const found = atStart?.[1] ?? atEnd?.[1];
  return found === undefined ? null : (JSON.parse(found) as string | number);
}

/** The first or last EDGE_BYTES of a line held as pieces, without joining the whole line. */
function edge(pieces: Buffer[], end: 'head' | 'tail'): Buffer {
  const ordered = end === 'head' ? pieces : [...pieces].reverse();
  const taken: Buffer[] = [];
  let bytes = 0;
  for (const piece of ordered) {
    if (bytes >= EDGE_BYTES) break;
    taken.push(piece);
    bytes += piece.length;
  }
  const joined = Buffer.concat(end === 'head' ? taken : taken.reverse());
  return end === 'head' ? joined.subarray(0, EDGE_BYTES) : joined.subarray(-EDGE_BYTES);
}

function idOf(message: unknown): RequestId {
  const id = (message as { id?: unknown } | null)?.id;
  return typeof id === 'string' || typeof id === 'number' ? id : null;
}

/**
 * MCP over newline-delimited JSON (stdio) with a limit per message instead of per buffer: a line over
 * `maxMessageBytes` is skipped as it streams in and answered with a JSON-RPC error, lines that are not JSON or
 * not JSON-RPC are answered too (-32700, -32600), and the transport keeps serving. Chunks are joined once per
 * line, so a 50 MB message costs one copy, not one per chunk.
 */
export class LineTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;

  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Set while skipping a line over the limit: its first and latest bytes, and how long it got. */
  private skipping: { head: string; tail: Buffer; bytes: number } | undefined;

  constructor(
    private readonly input: Readable,
    private readonly output: Writable,
    private readonly maxMessageBytes: number,
  ) {}

  private readonly onData = (chunk: Buffer) => {
    let start = 0;
    for (let newline = chunk.indexOf(10); newline !== -1; newline = chunk.indexOf(10, start)) {
      this.take(chunk.subarray(start, newline));
      this.endLine();
      start = newline + 1;
    }
    if (start < chunk.length) this.take(chunk.subarray(start));
  };

  private readonly onInputError = (error: Error) => this.onerror?.(error);

  async start(): Promise<void> {
    this.input.on('data', this.onData);
    this.input.on('error', this.onInputError);
  }

  private take(piece: Buffer): void {
    if (piece.length === 0) return;
    if (this.skipping) {
      this.skipping.bytes += piece.length;
      this.skipping.tail = edge([this.skipping.tail, piece], 'tail');
      return;
    }
    if (this.pendingBytes + piece.length > this.maxMessageBytes) {
      const pieces = [...this.pending, piece];
      this.skipping = { head: edge(pieces, 'head').toString('utf8'), tail: edge(pieces, 'tail'), bytes: this.pendingBytes + piece.length };
      this.pending = [];
      this.pendingBytes = 0;
      return;
    }
    // Node never reuses a stream's chunks, so the pieces of a line are kept as views until it ends.
    this.pending.push(piece);
    this.pendingBytes += piece.length;
  }

  private endLine(): void {
    if (this.skipping) {
      const { head, tail, bytes } = this.skipping;
      this.skipping = undefined;
      const id = idAtEdges(head, tail.toString('utf8'));
      this.onerror?.(new Error(`a message of ${bytes} bytes is over the stdio limit of ${this.maxMessageBytes} bytes (id ${id}): refused`));
      void this.reply(id, -32600, `Invalid Request: a message of ${bytes} bytes is over the limit of ${this.maxMessageBytes} bytes (the largest accepted image as base64, plus margin); pass large images as file paths or URLs`, { limitBytes: this.maxMessageBytes, bytes });
      return;
    }
    const line = Buffer.concat(this.pending, this.pendingBytes).toString('utf8').replace(/\r$/, '');
    this.pending = [];
    this.pendingBytes = 0;
    if (line.trim() === '') return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch (error) {
      this.onerror?.(new Error(`a line on stdin is not JSON: ${(error as Error).message}`));
      void this.reply(null, -32700, `Parse error: ${(error as Error).message}`);
      return;
    }
    const message = JSONRPCMessageSchema.safeParse(parsed);
    if (!message.success) {
      this.onerror?.(new Error('a line on stdin is JSON but not a JSON-RPC 2.0 message'));
      void this.reply(idOf(parsed), -32600, 'Invalid Request: not a JSON-RPC 2.0 message');
      return;
    }
    this.onmessage?.(message.data);
  }

  private reply(id: RequestId, code: number, message: string, data?: unknown): Promise<void> {
    return this.write({ jsonrpc: '2.0', id, error: { code, message, ...(data === undefined ? {} : { data }) } });
  }

  send(message: JSONRPCMessage): Promise<void> {
    return this.write(message);
  }

  private write(message: unknown): Promise<void> {
    return new Promise((resolve) => {
      if (this.output.write(`${JSON.stringify(message)}\n`)) resolve();
      else this.output.once('drain', resolve);
    });
  }

  async close(): Promise<void> {
    this.input.off('data', this.onData);
    this.input.off('error', this.onInputError);
    if (this.input.listenerCount('data') === 0) this.input.pause();
    this.pending = [];
    this.skipping = undefined;
    this.onclose?.();
  }
}
