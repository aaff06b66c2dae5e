import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { startTestServer, emulatorEnvironment, type TestServer } from './support/server.js';
import { startAlibabaEmulator, type AlibabaEmulator } from './emulator/index.js';
import { discOnWhite } from './support/images.js';

/** A coarse square mask over a disc: RefineMask runs locally in milliseconds, so delivery is cheap to test. */
async function refineInputs() {
  const image = await discOnWhite(200, 160);
  const mask = await sharp({ create: { width: 200, height: 160, channels: 3, background: '#000000' } })
    .composite([{ input: await sharp({ create: { width: 110, height: 110, channels: 3, background: '#ffffff' } }).png().toBuffer(), left: 45, top: 25 }])
    .png()
    .toBuffer();
  return { image, mask };
}

const dataUrl = (bytes: Buffer, type = 'image/png') => `data:${type};base64,${bytes.toString('base64')}`;

describe('result delivery with the local provider', () => {
  let server: TestServer;
  let inputs: { image: Buffer; mask: Buffer };

  beforeAll(async () => {
    server = await startTestServer({ IMAGESEG_PROVIDER: 'local', PAYMENTS: 'off' });
    inputs = await refineInputs();
  });
  afterAll(async () => server?.close());

  async function refine(extra: Record<string, unknown>) {
    const response = await fetch(`${server.url}/api/tools/mask-refinement`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ImageURL: dataUrl(inputs.image), MaskImageURL: dataUrl(inputs.mask), ...extra }),
    });
    return { status: response.status, body: (await response.json()) as { data: { Elements: Array<{ ImageURL: string }> }; error?: { code: string; message: string } } };
  }

  it('gives a lasting link to the stored result by default over REST', async () => {
    const { status, body } = await refine({});
    expect(status).toBe(200);
    const link = body.data.Elements[0].ImageURL;
    expect(link).toMatch(new RegExp(`^${server.url}/results/[a-f0-9]{32}\\.png$`));
    const image = await fetch(link);
    expect(image.headers.get('content-type')).toBe('image/png');
    expect((await sharp(Buffer.from(await image.arrayBuffer())).metadata()).width).toBe(200);
  });

  it('inlines the image as a data: URL when asked over REST', async () => {
    const { body } = await refine({ deliver: 'inline' });
    const url = body.data.Elements[0].ImageURL;
    expect(url.startsWith('data:image/png;base64,')).toBe(true);
    const metadata = await sharp(Buffer.from(url.split(',')[1], 'base64')).metadata();
    expect([metadata.width, metadata.height]).toEqual([200, 160]);
  });

  it('reworks the result with sharp: format and target size, letterboxing a mask in black', async () => {
    const { body } = await refine({ deliver: 'inline', format: 'webp', width: 100, height: 100 });
    const url = body.data.Elements[0].ImageURL;
    expect(url.startsWith('data:image/webp;base64,')).toBe(true);
    const bytes = Buffer.from(url.split(',')[1], 'base64');
    const metadata = await sharp(bytes).metadata();
    expect([metadata.format, metadata.width, metadata.height]).toEqual(['webp', 100, 100]);
    const { data, info } = await sharp(bytes).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    expect(data[0]).toBeLessThan(16);
    const centre = (50 * info.width + 50) * info.channels;
    expect(data[centre]).toBeGreaterThan(240);
  });

  it('refuses deliver="file" over HTTP before doing any work', async () => {
    const { status, body } = await refine({ deliver: 'file' });
    expect(status).toBe(400);
    expect(body.error?.message).toContain('stdio only');
  });

  it('embeds the image in MCP answers by default, with a resource link', async () => {
    const client = new Client({ name: 'delivery-test', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${server.url}/mcp`)));
    try {
      const result = (await client.callTool({ name: 'mask_refinement', arguments: { ImageURL: dataUrl(inputs.image), MaskImageURL: dataUrl(inputs.mask) } })) as CallToolResult;
      expect(result.isError).toBeFalsy();
      const image = result.content.find((item) => item.type === 'image') as { data: string; mimeType: string };
      expect(image.mimeType).toBe('image/png');
      expect((await sharp(Buffer.from(image.data, 'base64')).metadata()).width).toBe(200);
      const link = result.content.find((item) => item.type === 'resource_link') as { uri: string };
      expect(link.uri).toMatch(/\/results\//);

      // deliver="stored" over MCP: a lasting link and no embedded image.
      const stored = (await client.callTool({
        name: 'mask_refinement',
        arguments: { ImageURL: dataUrl(inputs.image), MaskImageURL: dataUrl(inputs.mask), deliver: 'stored' },
      })) as CallToolResult;
      expect(stored.content.some((item) => item.type === 'image')).toBe(false);
      const storedUrl = (stored.structuredContent as { data: { Elements: Array<{ ImageURL: string }> } }).data.Elements[0].ImageURL;
      expect(storedUrl.startsWith(`${server.url}/results/`)).toBe(true);
      expect((await fetch(storedUrl)).status).toBe(200);
    } finally {
      await client.close();
    }
  });
});

describe('inline images that fit a model\'s context (MCP over HTTP)', () => {
  it('inlines a preview no larger than IMAGESEG_INLINE_MAX_BYTES, says so, and links the full result', async () => {
    const server = await startTestServer({ IMAGESEG_PROVIDER: 'local', PAYMENTS: 'off', IMAGESEG_INLINE_MAX_BYTES: '1024' });
    const client = new Client({ name: 'preview-test', version: '1.0.0' });
    try {
      await client.connect(new StreamableHTTPClientTransport(new URL(`${server.url}/mcp`)));
      const { image, mask } = await refineInputs();
      const result = (await client.callTool({ name: 'mask_refinement', arguments: { ImageURL: dataUrl(image), MaskImageURL: dataUrl(mask) } })) as CallToolResult;
      expect(result.isError).toBeFalsy();
      const inline = result.content.find((item) => item.type === 'image') as { data: string };
      expect(inline.data.length).toBeLessThanOrEqual(1024);
      const output = result.structuredContent as { content: string; data: { Elements: Array<{ ImageURL: string }> } };
      expect(output.content).toMatch(/preview of the 200x160 result/);
      const full = await fetch(output.data.Elements[0].ImageURL);
      expect((await sharp(Buffer.from(await full.arrayBuffer())).metadata()).width).toBe(200);
    } finally {
      await client.close();
      await server.close();
    }
  });
});

describe('result delivery with the Alibaba provider', () => {
  let emulator: AlibabaEmulator;
  let server: TestServer;
  beforeAll(async () => {
    emulator = await startAlibabaEmulator();
    server = await startTestServer(emulatorEnvironment(emulator));
  });
  afterAll(async () => {
    await server?.close();
    await emulator?.close();
  });

  it('keeps Alibaba\'s result under a lasting link when deliver="stored"', async () => {
    const imageUrl = emulator.hostImage(await discOnWhite());
    const response = await fetch(`${server.url}/api/tools/product-background-removal`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ImageURL: imageUrl, deliver: 'stored', cropMargin: 4 }),
    });
    const body = (await response.json()) as { data: { ImageURL: string } };
    expect(response.status).toBe(200);
    expect(body.data.ImageURL.startsWith(`${server.url}/results/`)).toBe(true);
    const stored = Buffer.from(await (await fetch(body.data.ImageURL)).arrayBuffer());
    const metadata = await sharp(stored).metadata();
    // discOnWhite(320x240) has a disc of radius 80: cropped to it plus 4 px each side.
    expect(metadata.width).toBeGreaterThanOrEqual(160);
    expect(metadata.width).toBeLessThanOrEqual(172);
    expect(metadata.hasAlpha).toBe(true);
  });

  it('puts the requested background behind a cutout, fitted to a target size', async () => {
    const imageUrl = emulator.hostImage(await discOnWhite());
    const response = await fetch(`${server.url}/api/tools/product-background-removal`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ImageURL: imageUrl, deliver: 'inline', background: '#0000ff', format: 'jpg', width: 240, height: 240 }),
    });
    const body = (await response.json()) as { data: { ImageURL: string } };
    const bytes = Buffer.from(body.data.ImageURL.split(',')[1], 'base64');
    const { data, info } = await sharp(bytes).raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height, info.channels]).toEqual([240, 240, 3]);
    const pixel = (x: number, y: number) => Array.from(data.subarray((y * info.width + x) * 3, (y * info.width + x) * 3 + 3));
    // Corner: letterbox and removed background are both blue; centre: the red disc.
    expect(pixel(2, 2).map((value) => Math.round(value / 32))).toEqual([0, 0, 8]);
    expect(pixel(120, 120)[0]).toBeGreaterThan(180);
    expect(pixel(120, 120)[2]).toBeLessThan(80);
  });
});

describe('result delivery over stdio', () => {
  it('writes the result next to the input file when deliver="file", and embeds it by default', async () => {
    const directory = mkdtempSync(path.join(tmpdir(), 'imageseg-files-'));
    try {
      const { image, mask } = await refineInputs();
      writeFileSync(path.join(directory, 'photo.png'), image);
      writeFileSync(path.join(directory, 'mask.png'), mask);
      const transport = new StdioClientTransport({
        command: process.execPath,
        args: [path.resolve('dist/cli.js'), 'stdio'],
        cwd: directory,
        env: { PATH: process.env.PATH ?? '', IMAGESEG_PROVIDER: 'local', PAYMENTS: 'off', DATABASE_URL: path.join(directory, 'db.sqlite'), IMAGESEG_FILE_ROOTS: directory },
        stderr: 'pipe',
      });
      const client = new Client({ name: 'stdio-files', version: '1.0.0' });
      await client.connect(transport);
      try {
        const result = (await client.callTool({
          name: 'mask_refinement',
          arguments: { ImageURL: path.join(directory, 'photo.png'), MaskImageURL: path.join(directory, 'mask.png'), deliver: 'file' },
        })) as CallToolResult;
        expect(result.isError).toBeFalsy();
        const written = path.join(directory, 'photo.mask-refinement.png');
        expect((result.structuredContent as { data: { Elements: Array<{ ImageURL: string }> } }).data.Elements[0].ImageURL).toBe(written);
        expect(existsSync(written)).toBe(true);
        expect((await sharp(readFileSync(written)).metadata()).width).toBe(200);

        const inline = (await client.callTool({
          name: 'mask_refinement',
          arguments: { ImageURL: path.join(directory, 'photo.png'), MaskImageURL: path.join(directory, 'mask.png') },
        })) as CallToolResult;
        const embedded = inline.content.find((item) => item.type === 'image') as { data: string };
        expect((await sharp(Buffer.from(embedded.data, 'base64')).metadata()).width).toBe(200);

        const outside = (await client.callTool({
          name: 'mask_refinement',
          arguments: { ImageURL: '/etc/hostname', MaskImageURL: path.join(directory, 'mask.png') },
        })) as CallToolResult;
        expect(outside.isError).toBe(true);
        expect((outside.structuredContent as { error: { message: string } }).error.message).toContain('outside the allowed roots');
      } finally {
        await client.close();
      }
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });
});
