import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { crc32 } from 'node:zlib';
import { startAlibabaEmulator, type AlibabaEmulator } from './emulator/index.js';
import { emulatorEnvironment, startTestServer, type TestServer } from './support/server.js';
import { bmp24, discOnWhite } from './support/images.js';

/** The first `length` bytes of a BMP header that claims width x height (24-bit, or RLE8 with `rle`). */
function lyingBmp(width: number, height: number, length: number, rle = false): Buffer {
  const bytes = Buffer.alloc(length);
  bytes.write('BM', 0, 'ascii');
  bytes.writeUInt32LE(54 + width * height * 3, 2);
  bytes.writeUInt32LE(54, 10);
  bytes.writeUInt32LE(40, 14);
  bytes.writeInt32LE(width, 18);
  bytes.writeInt32LE(height, 22);
  bytes.writeUInt16LE(1, 26);
  bytes.writeUInt16LE(rle ? 8 : 24, 28);
  bytes.writeUInt32LE(rle ? 1 : 0, 30);
  return bytes;
}

/**
 * The image pre-check, before any provider call. An image URL on a passthrough host goes to Alibaba as it is, and
 * Alibaba fetches and decodes it itself: the pre-check still fetches it under the guard but reads only its header
 * (format, size, dimensions; a BMP's header and pixel-data length). What that shows is refused before anything is
 * charged or called; a truncated JPEG or PNG body is Alibaba's to refuse.
 */
describe('the image pre-check, before any provider call', () => {
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
    return { status: response.status, body: (await response.json()) as { error?: { code: string; message: string; details?: Record<string, unknown> } } };
  }

  it('refuses a 60-byte BMP that claims 1000x1000 pixels: IMAGE_INVALID, and Alibaba never called', async () => {
    const { status, body } = await segment(emulator.hostImage(lyingBmp(1000, 1000, 60), 'image/bmp'));
    expect(status).toBe(422);
    expect(body.error).toMatchObject({ code: 'IMAGE_INVALID', details: { field: 'ImageURL', charged: false } });
    expect(body.error?.message).toContain('truncated BMP pixel data');
    expect(emulator.calls).toHaveLength(0);
  });

  it('refuses an RLE BMP whose stream ends before its rows do', async () => {
    const bytes = Buffer.concat([lyingBmp(800, 600, 54, true), Buffer.alloc(1024), Buffer.from([4, 7, 0, 0])]);
    const { status, body } = await segment(emulator.hostImage(bytes, 'image/bmp'));
    expect(status).toBe(422);
    expect(body.error?.code).toBe('IMAGE_INVALID');
    expect(emulator.calls).toHaveLength(0);
  });

  it('passes a whole BMP on to Alibaba', async () => {
    const { data, info } = await sharp(await discOnWhite()).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    const { status } = await segment(emulator.hostImage(bmp24(info.width, info.height, data), 'image/bmp'));
    expect(status).toBe(200);
    expect(emulator.calls.map((call) => call.action)).toEqual(['SegmentCommodity']);
  });

  it('answers an empty or undecodable data: URL with 422 IMAGE_INVALID, not 500', async () => {
    for (const input of ['data:image/png;base64,', 'data:image/png;base64,AAAA', `data:image/png;base64,${Buffer.alloc(300, 65).toString('base64')}`]) {
      const { status, body } = await segment(input);
      expect(status, input).toBe(422);
      expect(body.error?.code, input).toBe('IMAGE_INVALID');
    }
    expect(emulator.calls).toHaveLength(0);
  });

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
