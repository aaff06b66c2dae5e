import { afterEach, describe, expect, it } from 'vitest';
import type { Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { loadConfig } from '../src/config.js';
import { createAppContext, type AppContext } from '../src/app.js';
import { serveHttp } from '../src/http/serve.js';

const initialize = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } } });
const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
const cleanups: Array<() => Promise<void>> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

/** The real HTTP server bound to every interface, with its start-up log captured. */
async function startOnAllInterfaces(environment: Record<string, string>): Promise<{ port: number; log: string[] }> {
  const dataDirectory = mkdtempSync(path.join(tmpdir(), 'imageseg-origin-'));
  const log: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      log.push(String(chunk));
      done();
    },
  });
  const config = loadConfig({ DATABASE_URL: path.join(dataDirectory, 'imageseg.db'), PAYMENTS: 'off', ...environment }, { transport: 'http', host: '0.0.0.0', port: 0 });
  const context: AppContext = createAppContext(config, pino({ level: 'info' }, sink));
  const server: Server = await serveHttp(context);
  const address = server.address();
  cleanups.push(async () => {
    await new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
    await context.payments.close();
    rmSync(dataDirectory, { recursive: true, force: true });
  });
  return { port: typeof address === 'object' && address ? address.port : 0, log };
}

const initializeFrom = (port: number, origin?: string) =>
  fetch(`http://127.0.0.1:${port}/mcp`, { method: 'POST', headers: { ...headers, ...(origin ? { origin } : {}) }, body: initialize });

describe('Origin check on any bind address', () => {
  it('refuses a foreign browser Origin on /mcp when bound to 0.0.0.0 without PUBLIC_BASE_URL, and says which checks are on', async () => {
    const { port, log } = await startOnAllInterfaces({});
    expect((await initializeFrom(port, 'http://evil.example')).status).toBe(403);
    expect((await initializeFrom(port, `http://localhost:${port}`)).status).toBe(200);
    expect((await initializeFrom(port, `http://127.0.0.1:${port}`)).status).toBe(200);
    expect((await initializeFrom(port)).status).toBe(200);
    const startup = log.join('');
    expect(startup).toMatch(/Host header check off/);
    expect(startup).toMatch(/Origin check on/);
  });

  it('admits the origins listed in IMAGESEG_ALLOWED_ORIGINS, and only those', async () => {
    const { port, log } = await startOnAllInterfaces({ IMAGESEG_ALLOWED_ORIGINS: 'https://app.example.com, http://tools.example.org:8080' });
    expect((await initializeFrom(port, 'https://app.example.com')).status).toBe(200);
    expect((await initializeFrom(port, 'http://tools.example.org:8080')).status).toBe(200);
    expect((await initializeFrom(port, 'http://app.example.com')).status).toBe(403);
    expect((await initializeFrom(port, 'https://evil.example')).status).toBe(403);
    expect(log.join('')).toContain('https://app.example.com');
  });

  it('refuses a malformed IMAGESEG_ALLOWED_ORIGINS at start', () => {
    expect(() => loadConfig({ IMAGESEG_ALLOWED_ORIGINS: 'app.example.com' }, { transport: 'http' })).toThrow(/IMAGESEG_ALLOWED_ORIGINS/);
  });
});
