import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { crc32 } from 'node:zlib';
import { startAlibabaEmulator, type AlibabaEmulator } from './emulator/index.js';
import { emulatorEnvironment, startTestServer, type TestServer } from './support/server.js';
import { discOnWhite } from './support/images.js';

/**
 * An image URL on a passthrough host goes to Alibaba as it is, and Alibaba fetches and decodes it itself: our
 * pre-check still fetches it under the guard but reads only its header (format, size, dimensions). What the header
 * shows is refused before anything is charged or called; a truncated body is Alibaba's to refuse.
 */
describe('the pre-check of passthrough URLs reads the header, not the pixels', () => {
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
  beforeEach(() => void (emulator.calls.length = 0));

  async function segment(ImageURL: string) {
    const response = await fetch(`${server.url}/api/tools/product-background-removal`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ImageURL }),
    });
    return { status: response.status, body: (await response.json()) as { error?: { code: string; message: string } } };
  }

  it('passes a good JPEG URL on unchanged', async () => {
    const url = emulator.hostImage(await sharp(await discOnWhite(400, 300)).jpeg().toBuffer(), 'image/jpeg');
    expect((await segment(url)).status).toBe(200);
    expect(emulator.calls.map((call) => call.params.ImageURL)).toEqual([url]);
  });

  it('refuses a decompression bomb by its header, and never calls Alibaba', async () => {
    const bomb = Buffer.from(await sharp({ create: { width: 1, height: 1, channels: 3, background: '#ffffff' } }).png().toBuffer());
    bomb.writeUInt32BE(30000, 16);
    bomb.writeUInt32BE(30000, 20);
    bomb.writeUInt32BE(crc32(bomb.subarray(12, 29)), 29);
    const { status, body } = await segment(emulator.hostImage(bomb, 'image/png'));
    expect(status).toBe(422);
    expect(body.error?.code).toBe('IMAGE_INVALID');
    expect(body.error?.message).toContain('30000x30000 px exceeds');
    expect(emulator.calls).toHaveLength(0);
  });

  it('refuses garbage and formats the Action does not take, naming them', async () => {
    const garbage = await segment(emulator.hostImage(Buffer.from('this is not an image at all, just text long enough'), 'image/png'));
    expect(garbage.status).toBe(422);
    expect(garbage.body.error?.message).toContain('ImageURL: not a readable image');
    const tiff = await segment(emulator.hostImage(await sharp(await discOnWhite(64, 64)).tiff().toBuffer(), 'image/tiff'));
    expect(tiff.body.error?.message).toContain('format tiff is not accepted');
    expect(emulator.calls).toHaveLength(0);
  });

  it('decodes a passthrough image that must be scaled down: a truncated one is IMAGE_INVALID, not a crash', async () => {
    const big = await sharp(await discOnWhite(2000, 1500)).jpeg().toBuffer();
    const { status, body } = await segment(emulator.hostImage(big.subarray(0, Math.floor(big.length / 2)), 'image/jpeg'));
    expect(status).toBe(422);
    expect(body.error?.code).toBe('IMAGE_INVALID');
    expect(body.error?.message).toContain('does not decode');
    expect(emulator.calls).toHaveLength(0);
  });
});
