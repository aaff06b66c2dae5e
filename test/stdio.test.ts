import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { startAlibabaEmulator, type AlibabaEmulator } from './emulator/index.js';
import { emulatorEnvironment } from './support/server.js';
import { discOnWhite } from './support/images.js';
import { capabilities } from '../tools/index.js';

const CLI = path.resolve('dist/cli.js');
let emulator: AlibabaEmulator;
let dataDirectory: string;

beforeAll(async () => {
  if (!existsSync(CLI)) throw new Error('dist/cli.js is missing: run `npm run build` (npm test does)');
  emulator = await startAlibabaEmulator();
  dataDirectory = mkdtempSync(path.join(tmpdir(), 'imageseg-stdio-'));
});

afterAll(async () => {
  await emulator?.close();
  rmSync(dataDirectory, { recursive: true, force: true });
});

function environment(): Record<string, string> {
  return { PATH: process.env.PATH ?? '', ...emulatorEnvironment(emulator), DATABASE_URL: path.join(dataDirectory, 'imageseg.db') };
}

describe('MCP over stdio (the built CLI)', () => {
  it('lists one tool per capability and batch_segmentation, and runs a call through the emulator', async () => {
    const transport = new StdioClientTransport({ command: process.execPath, args: [CLI, 'stdio'], env: environment(), stderr: 'pipe' });
    const client = new Client({ name: 'stdio-test', version: '1.0.0' });
    await client.connect(transport);
    try {
      const { tools } = await client.listTools();
      expect(tools).toHaveLength(capabilities.length + 1);
      expect(tools.map((tool) => tool.name)).toContain('batch_segmentation');
      const imageUrl = emulator.hostImage(await discOnWhite());
      const result = (await client.callTool({ name: 'product_background_removal', arguments: { ImageURL: imageUrl } })) as CallToolResult;
      expect(result.isError).toBeFalsy();
      expect((result.structuredContent as { data: { Action: string } }).data.Action).toBe('SegmentCommodity');
      // Over stdio the full result is this process's MCP resource, not a link to a server that may not be running.
      const link = result.content.find((item) => item.type === 'resource_link') as { uri: string };
      expect((result.structuredContent as { data: { ImageURL: string } }).data.ImageURL).toBe(link.uri);
      expect(link.uri).toMatch(/^imageseg:\/\/local\/results\//);
      const read = await client.readResource({ uri: link.uri });
      expect((read.contents[0] as { mimeType: string }).mimeType).toBe('image/png');
    } finally {
      await client.close();
    }
  });

  it('writes nothing but JSON-RPC on stdout; logs go to stderr', async () => {
    const child = spawn(process.execPath, [CLI, 'stdio'], { env: { ...environment(), LOG_LEVEL: 'debug' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const initialize = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } };
    child.stdin.write(`${JSON.stringify(initialize)}\n`);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no answer; stderr: ${stderr}`)), 10_000);
      child.stdout.on('data', () => {
        if (stdout.includes('\n')) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    child.kill();
    const lines = stdout.split('\n').filter(Boolean);
    for (const line of lines) expect(JSON.parse(line).jsonrpc).toBe('2.0');
    expect(JSON.parse(lines[0]).result.serverInfo.name).toBe('imageseg-mcp');
    expect(stderr).toContain('MCP server ready on stdio');
  });

  it('prints help listing the environment variables', async () => {
    const child = spawn(process.execPath, [CLI, '--help']);
    let stdout = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    const code = await new Promise((resolve) => child.on('close', resolve));
    expect(code).toBe(0);
    for (const name of ['ALIBABA_CLOUD_ACCESS_KEY_ID', 'IMAGESEG_ENDPOINT', 'IMAGESEG_PROVIDER', 'PAYMENTS', 'X402_PAY_TO', 'DATABASE_URL']) expect(stdout).toContain(name);
  });
});
