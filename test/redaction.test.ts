import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { startAlibabaEmulator, type AlibabaEmulator } from './emulator/index.js';
import { discOnWhite } from './support/images.js';

/** The real stdio server with its log (stderr) captured, so a test can see what reaches the log and what the client. */
async function startStdio(directory: string, env: Record<string, string>) {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [path.resolve('dist/cli.js'), 'stdio'],
    cwd: directory,
    env: { PATH: process.env.PATH ?? '', HOME: directory, PAYMENTS: 'off', DATABASE_URL: path.join(directory, 'db.sqlite'), IMAGESEG_FILE_ROOTS: directory, LOG_LEVEL: 'info', ...env },
    stderr: 'pipe',
  });
  let log = '';
  (transport.stderr as Readable).on('data', (chunk: Buffer) => void (log += chunk.toString()));
  const client = new Client({ name: 'redaction', version: '1.0.0' });
  await client.connect(transport);
  return {
    client,
    /** the log so far, after the server has had a moment to flush it */
    log: async () => {
      await new Promise((resolve) => setTimeout(resolve, 300));
      return log;
    },
  };
}

const errorOf = (result: CallToolResult) => (result.structuredContent as { error: { code: string; message: string; details?: Record<string, unknown> } }).error;

describe('no secrets echoed to clients', () => {
  let directory: string;
  let images: http.Server;
  let port: number;
  let emulator: AlibabaEmulator;
  beforeAll(async () => {
    directory = mkdtempSync(path.join(tmpdir(), 'imageseg-redact-'));
    images = http.createServer((_request, response) => void response.writeHead(404).end());
    await new Promise<void>((resolve) => images.listen(0, '127.0.0.1', resolve));
    port = (images.address() as AddressInfo).port;
    emulator = await startAlibabaEmulator();
  });
  afterAll(async () => {
    images?.closeAllConnections();
    images?.close();
    await emulator?.close();
    rmSync(directory, { recursive: true, force: true });
  });

  it('reports and logs an image URL without its user name and password', async () => {
    const server = await startStdio(directory, { IMAGESEG_PROVIDER: 'local', IMAGESEG_ALLOW_PRIVATE_URLS: '1' });
    try {
      const result = (await server.client.callTool({
        name: 'product_background_removal',
        arguments: { ImageURL: `http://alice:hunter2-s3cret@127.0.0.1:${port}/private/product.png` },
      })) as CallToolResult;
      expect(result.isError).toBe(true);
      const error = errorOf(result);
      expect(error.code).toBe('IMAGE_UNREACHABLE');
      expect(error.message).toContain(`http://127.0.0.1:${port}/private/product.png`);
      expect(JSON.stringify(result)).not.toContain('hunter2');
      expect(JSON.stringify(result)).not.toContain('alice');
      const log = await server.log();
      expect(log).toContain('call failed');
      expect(log).not.toContain('hunter2');
    } finally {
      await server.client.close();
    }
  });

  it('keeps Alibaba\'s string-to-sign of a SignatureDoesNotMatch out of the client\'s error, and in the server log', async () => {
    const server = await startStdio(directory, {
      ALIBABA_CLOUD_ACCESS_KEY_ID: emulator.accessKeyId,
      ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'not-the-secret',
      IMAGESEG_ENDPOINT: emulator.endpoint,
      IMAGESEG_PROTOCOL: 'http',
      IMAGESEG_PASSTHROUGH_HOSTS: '127.0.0.1',
      IMAGESEG_ALLOW_PRIVATE_URLS: '1',
    });
    try {
      const result = (await server.client.callTool({
        name: 'product_background_removal',
        arguments: { ImageURL: emulator.hostImage(await discOnWhite()) },
      })) as CallToolResult;
      expect(result.isError).toBe(true);
      const error = errorOf(result);
      expect(error.code).toBe('PROVIDER_NOT_CONFIGURED');
      expect(error.details).toMatchObject({ alibabaCode: 'SignatureDoesNotMatch', charged: false });
      expect(error.message).toContain('SignatureDoesNotMatch');
      expect(JSON.stringify(result).toLowerCase()).not.toContain('string to sign');
      expect(JSON.stringify(result)).not.toContain('ACS3-HMAC-SHA256');
      const log = await server.log();
      expect(log.toLowerCase()).toContain('string to sign');
    } finally {
      await server.client.close();
    }
  });
});
