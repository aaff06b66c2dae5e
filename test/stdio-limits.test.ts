import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { capabilities } from '../tools/index.js';
import { largestRequestBytes } from '../src/catalog/request-size.js';

const CLI = path.resolve('dist/cli.js');
const MIB = 1024 * 1024;

interface Answer {
  id?: number | string | null;
  result?: { isError?: boolean; tools?: unknown[]; structuredContent?: { content?: string; error?: string } };
  error?: { code: number; message: string };
}

/** The built CLI on stdio, spoken to line by line the way any MCP client does. */
class StdioServer {
  readonly child: ChildProcessWithoutNullStreams;
  readonly answers: Answer[] = [];
  stderr = '';
  exited: number | null | undefined = undefined;
  private partial = '';
  private waiters: Array<() => void> = [];

  constructor(environment: Record<string, string>) {
    this.child = spawn(process.execPath, [CLI, 'stdio'], { env: environment });
    this.child.stdout.setEncoding('utf8');
    this.child.stdout.on('data', (text: string) => {
      const lines = (this.partial + text).split('\n');
      this.partial = lines.pop() ?? '';
      for (const line of lines) if (line.trim()) this.answers.push(JSON.parse(line) as Answer);
      this.wake();
    });
    this.child.stderr.on('data', (chunk) => (this.stderr += chunk));
    this.child.on('exit', (code) => {
      this.exited = code;
      this.wake();
    });
    // The server may stop reading a line it refuses; a write into a closed pipe is not this test's failure.
    this.child.stdin.on('error', () => undefined);
  }

  private wake(): void {
    for (const waiter of this.waiters.splice(0)) waiter();
  }

  /** Writes one line, waiting for the pipe to drain so that tens of megabytes do not pile up in this process. */
  async send(line: string): Promise<void> {
    if (this.exited !== undefined) return;
    if (this.child.stdin.write(`${line}\n`)) return;
    await new Promise<void>((resolve) => {
      this.child.stdin.once('drain', resolve);
      this.child.stdin.once('error', () => resolve());
      this.child.once('exit', () => resolve());
    });
  }

  answerTo(id: number, timeoutMs = 20_000): Promise<Answer> {
    return this.waitFor((answer) => answer.id === id, `an answer to ${id}`, timeoutMs);
  }

  async waitFor(matches: (answer: Answer) => boolean, what: string, timeoutMs = 20_000): Promise<Answer> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const answer = this.answers.find(matches);
      if (answer) return answer;
      if (this.exited !== undefined) throw new Error(`the server exited (code ${this.exited}) before ${what}; stderr: ${this.stderr.slice(-2000)}`);
      if (Date.now() > deadline) throw new Error(`no ${what}; stderr: ${this.stderr.slice(-2000)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 200);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  async initialize(): Promise<void> {
    await this.send(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } }));
    await this.answerTo(1);
    await this.send(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }));
  }

  close(): void {
    if (this.exited === undefined) this.child.kill();
  }
}

/** A tools/call the way the SDK client serialises it: method and params first, id last. */
function toolCall(id: number, imageBytes: number): string {
  const ImageUrl = `data:image/jpeg;base64,${'A'.repeat(imageBytes)}`;
  return JSON.stringify({ method: 'tools/call', params: { name: 'hd_general_segmentation', arguments: { ImageUrl } }, jsonrpc: '2.0', id });
}

let dataDirectory: string;
let server: StdioServer;

beforeAll(async () => {
  if (!existsSync(CLI)) throw new Error('dist/cli.js is missing: run `npm run build` (npm test does)');
  dataDirectory = mkdtempSync(path.join(tmpdir(), 'imageseg-stdio-limits-'));
  // Unpaid calls are answered with PAYMENT_REQUIRED before any image work, so these tests need no model or emulator.
  server = new StdioServer({ PATH: process.env.PATH ?? '', DATABASE_URL: path.join(dataDirectory, 'imageseg.db'), IMAGESEG_FILE_ROOTS: dataDirectory });
  await server.initialize();
});

afterAll(() => {
  server?.close();
  rmSync(dataDirectory, { recursive: true, force: true });
});

describe('big messages over stdio', () => {
  it('answers a 12 MiB message (a 9 MB image as base64) and keeps serving', async () => {
    await server.send(toolCall(2, 12 * MIB));
    const answer = await server.answerTo(2, 30_000);
    expect(answer.error).toBeUndefined();
    expect(answer.result?.isError).toBe(true);
    expect(answer.result?.structuredContent).toMatchObject({ content: 'PAYMENT_REQUIRED', error: 'payment_required' });
    await server.send(JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'tools/list' }));
    expect((await server.answerTo(3)).result?.tools?.length).toBeGreaterThan(0);
  }, 60_000);

  it('carries the largest accepted image as base64, and refuses a bigger message with a JSON-RPC error, staying alive', async () => {
    const limit = largestRequestBytes(capabilities);
    // 40 MB HD images as base64 plus margin: about 60 MB.
    expect(limit).toBeGreaterThan((40 * MIB * 4) / 3);
    expect(limit).toBeLessThan(64 * MIB);
    await server.send(toolCall(4, Math.ceil((40 * MIB * 4) / 3)));
    expect((await server.answerTo(4, 60_000)).result?.structuredContent?.content).toBe('PAYMENT_REQUIRED');

    await server.send(toolCall(5, limit + MIB));
    const refused = await server.answerTo(5, 60_000);
    expect(refused.result).toBeUndefined();
    expect(refused.error?.code).toBe(-32600);
    expect(refused.error?.message).toMatch(/bytes/);
    // Logs are written asynchronously.
    for (let tries = 0; tries < 50 && !/over the stdio limit/.test(server.stderr); tries++) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(server.stderr).toMatch(/over the stdio limit/);

    await server.send('{"jsonrpc":"2.0","id":6,"method":');
    await server.waitFor((answer) => answer.id === null && answer.error?.code === -32700, 'a -32700 parse error');
    await server.send('{"jsonrpc":"1.0","id":8,"method":"tools/list"}');
    expect((await server.answerTo(8)).error?.code).toBe(-32600);

    await server.send(JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'tools/list' }));
    expect((await server.answerTo(7)).result?.tools?.length).toBeGreaterThan(0);
    expect(server.exited).toBeUndefined();
  }, 120_000);
});
