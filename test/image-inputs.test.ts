import { describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { crc32 } from 'node:zlib';
import { loadImage, type ImageLoadOptions } from '../src/images/load.js';
import { AppError } from '../src/errors.js';
import type { ImageLimits } from '../src/catalog/capability.js';
import { capabilities } from '../tools/index.js';
import { discOnWhite } from './support/images.js';

const options: ImageLoadOptions = { allowPrivateUrls: false, fileRoots: [], timeoutMs: 2000, maxRedirects: 3 };
const commodity = capabilities.find((capability) => capability.action === 'SegmentCommodity')!;
const limits = (commodity.images as Record<string, ImageLimits | undefined>).ImageURL!;
const load = (bytes: Buffer) => loadImage('ImageURL', `data:application/octet-stream;base64,${bytes.toString('base64')}`, limits, 'SegmentCommodity', options);
const refusal = (bytes: Buffer) => load(bytes).then(() => undefined, (error: unknown) => error as AppError);

describe('image inputs are checked against the Action\'s limits before any money is spent', () => {
  it('accepts a plain PNG and reports its real format and size', async () => {
    const image = await load(await discOnWhite(300, 200));
    expect([image.format, image.width, image.height]).toEqual(['png', 300, 200]);
  });

  it('reads the real format from magic bytes, whatever the data: URL claims', async () => {
    const jpeg = await sharp(await discOnWhite()).jpeg().toBuffer();
    const image = await loadImage('ImageURL', `data:image/png;base64,${jpeg.toString('base64')}`, limits, 'SegmentCommodity', options);
    expect(image.format).toBe('jpeg');
  });

  it('refuses an oversize file naming the limit and the measured size', async () => {
    const noisy = await sharp(Buffer.from(Array.from({ length: 1200 * 1000 * 3 }, (_, index) => (index * 7919) % 251)), { raw: { width: 1200, height: 1000, channels: 3 } })
      .png({ compressionLevel: 0 })
      .toBuffer();
    const error = await refusal(noisy);
    expect(error?.code).toBe('IMAGE_TOO_LARGE');
    expect(error?.message).toMatch(/^ImageURL: \d+\.\d MB > 3\.0 MB for SegmentCommodity$/);
  });

  it('refuses a format the Action does not take (animated GIF, TIFF)', async () => {
    const frame = await sharp(await discOnWhite(64, 64)).raw().toBuffer();
    const gif = await sharp(Buffer.concat([frame, frame]), { raw: { width: 64, height: 128, channels: 3, pageHeight: 64 } as never }).gif().toBuffer();
    expect((await refusal(gif))?.message).toContain('format gif is not accepted');
    const tiff = await sharp(await discOnWhite(64, 64)).tiff().toBuffer();
    expect((await refusal(tiff))?.message).toContain('format tiff is not accepted');
  });

  it('refuses a truncated image that only a full decode exposes', async () => {
    const jpeg = await sharp(await discOnWhite(800, 600)).jpeg().toBuffer();
    const error = await refusal(jpeg.subarray(0, Math.floor(jpeg.length / 2)));
    expect(error?.code).toBe('IMAGE_INVALID');
  });

  it('refuses garbage and empty input', async () => {
    expect((await refusal(Buffer.from('this is not an image at all, just text long enough')))?.code).toBe('IMAGE_INVALID');
  });

  it('refuses a decompression bomb by its declared dimensions, without decoding it', async () => {
    // A tiny PNG whose header declares 30000 x 30000: decoded it would need 2.7 GB.
    const bomb = Buffer.from(await sharp({ create: { width: 1, height: 1, channels: 3, background: '#ffffff' } }).png().toBuffer());
    bomb.writeUInt32BE(30000, 16);
    bomb.writeUInt32BE(30000, 20);
    bomb.writeUInt32BE(crc32(bomb.subarray(12, 29)), 29);
    const before = process.memoryUsage().rss;
    const error = await refusal(bomb);
    expect(error?.code).toBe('IMAGE_INVALID');
    expect(error?.message).toContain('30000x30000 px exceeds 1280 px per side');
    expect(process.memoryUsage().rss - before).toBeLessThan(200 * 1024 * 1024);
  });

  it('measures an EXIF-rotated photo as it will be displayed', async () => {
    const rotated = await sharp(await discOnWhite(400, 200)).jpeg().withMetadata({ orientation: 6 }).toBuffer();
    const image = await load(rotated);
    expect([image.width, image.height]).toEqual([200, 400]);
  });

  it('accepts CMYK JPEG and 16-bit PNG, which sharp decodes', async () => {
    const cmyk = await sharp(await discOnWhite()).toColourspace('cmyk').jpeg().toBuffer();
    expect((await sharp(cmyk).metadata()).space).toBe('cmyk');
    expect((await load(cmyk)).format).toBe('jpeg');
    const deep = await sharp(await discOnWhite()).toColourspace('rgb16').png().toBuffer();
    expect((await sharp(deep).metadata()).depth).toBe('ushort');
    expect((await load(deep)).format).toBe('png');
  });
});
