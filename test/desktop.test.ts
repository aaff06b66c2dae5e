import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { decodeAlpha, discOnWhite, iou, texturedDisc } from './support/images.js';

// Claude Desktop starts servers in `/` with only what its config sets: here PAYMENTS=off and a HOME of our own.
const CLI = path.resolve('dist/cli.js');
const INLINE_CAP = 512 * 1024;
let sandbox: string;
let home: string;
let dataHome: string;
let pictures: string;
let client: Client;
let rootBefore: string[];

/** Every file and folder under a directory, as relative paths. */
function tree(directory: string): string[] {
  return readdirSync(directory, { recursive: true, encoding: 'utf8' }).sort();
}

beforeAll(async () => {
  if (!existsSync(CLI)) throw new Error('dist/cli.js is missing: run `npm run build` (npm test does)');
  sandbox = mkdtempSync(path.join(tmpdir(), 'imageseg-desktop-'));
  home = path.join(sandbox, 'home');
  dataHome = path.join(sandbox, 'xdg-data');
  pictures = path.join(home, 'Pictures');
  mkdirSync(pictures, { recursive: true });
  writeFileSync(path.join(pictures, 'photo.png'), (await texturedDisc(2000, 1500)).png);
  rootBefore = readdirSync('/').sort();
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [CLI, 'stdio'],
    cwd: '/',
    env: { PATH: process.env.PATH ?? '', HOME: home, XDG_DATA_HOME: dataHome, PAYMENTS: 'off' },
    stderr: 'pipe',
  });
  client = new Client({ name: 'desktop-test', version: '1.0.0' });
  await client.connect(transport);
});

afterAll(async () => {
  await client?.close();
  rmSync(sandbox, { recursive: true, force: true });
});

/** Every answer is checked the same way: small inline images, no link to a server that is not running, links that resolve. */
async function checkAnswer(result: CallToolResult): Promise<void> {
  expect(JSON.stringify(result)).not.toMatch(/127\.0\.0\.1|localhost/);
  for (const item of result.content) {
    if (item.type === 'image') expect(item.data.length).toBeLessThanOrEqual(INLINE_CAP);
    if (item.type === 'resource_link') {
      const read = await client.readResource({ uri: item.uri });
      expect(read.contents[0]).toMatchObject({ uri: item.uri, mimeType: item.mimeType });
    }
  }
}

describe('Claude Desktop: the stdio server started in / with only PAYMENTS=off', () => {
  it('lists only the tools that can run here, without payment fields or prices, in under 40 KB', async () => {
    const listed = await client.listTools();
    const names = listed.tools.map((tool) => tool.name);
    expect(names).toContain('product_background_removal');
    expect(names).not.toContain('sky_replacement');
    expect(names).not.toContain('async_job_result');
    const text = JSON.stringify(listed);
    expect(text.length).toBeLessThan(40 * 1024);
    expect(text).not.toContain('paymentToken');
    expect(text).not.toMatch(/Price|USD/);
    const product = listed.tools.find((tool) => tool.name === 'product_background_removal')!;
    expect((product.inputSchema.properties!.ImageURL as { description: string }).description).toMatch(/local file path/);
    const hd = listed.tools.find((tool) => tool.name === 'hd_general_segmentation')!;
    expect(hd.description).toMatch(/waits for (it|the job) and returns the image/);
    expect(hd.description).not.toMatch(/returns a job id/i);
  });

  it('takes a 2000x1500 photo under HOME and writes the full-size cutout beside it, inlining a preview under the cap', async () => {
    const photo = path.join(pictures, 'photo.png');
    const result = (await client.callTool({ name: 'product_background_removal', arguments: { ImageURL: photo } }, undefined, { timeout: 120_000 })) as CallToolResult;
    expect(result.isError, JSON.stringify(result.structuredContent)).toBeFalsy();
    await checkAnswer(result);
    const output = result.structuredContent as { content: string; data: { ImageURL: string } };
    const written = path.join(pictures, 'photo.product-background-removal.png');
    expect(output.data.ImageURL).toBe(written);
    expect(output.content).toContain(`full result saved as ${written}`);
    expect(output.content).toMatch(/preview of the 2000x1500 result/);
    const cutout = await decodeAlpha(readFileSync(written));
    expect([cutout.width, cutout.height]).toEqual([2000, 1500]);
    expect(iou(cutout.alpha, (await texturedDisc(2000, 1500)).truth)).toBeGreaterThanOrEqual(0.9);
    expect(result.content.some((item) => item.type === 'image')).toBe(true);
  }, 150_000);

  it('offers the result of a data: URL input as an MCP resource this server serves', async () => {
    const small = await discOnWhite(320, 240);
    const result = (await client.callTool({ name: 'product_background_removal', arguments: { ImageURL: `data:image/png;base64,${small.toString('base64')}` } }, undefined, { timeout: 60_000 })) as CallToolResult;
    expect(result.isError, JSON.stringify(result.structuredContent)).toBeFalsy();
    const link = result.content.find((item) => item.type === 'resource_link') as { uri: string } | undefined;
    expect(link?.uri).toMatch(/^imageseg:\/\//);
    await checkAnswer(result);
    const read = await client.readResource({ uri: link!.uri });
    const bytes = Buffer.from((read.contents[0] as { blob: string }).blob, 'base64');
    expect((await decodeAlpha(bytes)).width).toBe(320);
  }, 90_000);

  it('names the roots in force when a file is outside them', async () => {
    const result = (await client.callTool({ name: 'product_background_removal', arguments: { ImageURL: '/etc/hostname' } })) as CallToolResult;
    expect(result.isError).toBe(true);
    const message = (result.structuredContent as { error: { message: string } }).error.message;
    expect(message).toContain(home);
    expect(message).not.toContain(`${home}, /`);
  });

  it('has created nothing outside XDG_DATA_HOME and the photo\'s folder', () => {
    expect(readdirSync('/').sort()).toEqual(rootBefore);
    const created = tree(sandbox).filter((entry) => !entry.startsWith('xdg-data') && !entry.startsWith(path.join('home', 'Pictures')));
    expect(created).toEqual(['home']);
    expect(tree(pictures)).toEqual(['photo.png', 'photo.product-background-removal.png']);
    expect(existsSync(path.join(dataHome, 'imageseg-mcp'))).toBe(true);
  });
});
