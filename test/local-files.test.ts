import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, rmSync, symlinkSync, writeFileSync, ftruncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadImage, type ImageLoadOptions } from '../src/images/load.js';
import { AppError } from '../src/errors.js';
import { discOnWhite } from './support/images.js';

/**
 * Local image files (stdio) are checked before a byte is read: regular files only, no larger than the Action
 * takes. Each refusal must come back at once and without reading: the real loader, timed and its memory watched.
 */
describe('local image files are bounded before they are read', () => {
  let root: string;
  let options: ImageLoadOptions;
  const limits = { formats: ['png', 'jpeg'] as const, maxBytes: 3 * 1024 * 1024 };

  beforeAll(async () => {
    root = mkdtempSync(path.join(tmpdir(), 'imageseg-local-'));
    // /dev is a root here on purpose: a device must be refused for what it is, not only for where it is.
    options = { allowPrivateUrls: false, fileRoots: [root, '/dev'], timeoutMs: 2000, maxRedirects: 3 };
    writeFileSync(path.join(root, 'photo.png'), await discOnWhite(64, 48));
    execFileSync('mkfifo', [path.join(root, 'pipe.png')]);
    const sparse = openSync(path.join(root, 'huge.png'), 'w');
    ftruncateSync(sparse, 1024 * 1024 * 1024);
    closeSync(sparse);
    symlinkSync('/dev/zero', path.join(root, 'zero.png'));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  async function refusal(file: string): Promise<{ error: AppError; ms: number; rssGrowth: number }> {
    const rss = process.memoryUsage().rss;
    const started = performance.now();
    const error = await loadImage('ImageURL', file, limits, 'SegmentCommodity', options).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    const ms = performance.now() - started;
    expect(error, file).toBeInstanceOf(AppError);
    return { error: error as AppError, ms, rssGrowth: process.memoryUsage().rss - rss };
  }

  it('still reads a regular image file inside the roots', async () => {
    const image = await loadImage('ImageURL', path.join(root, 'photo.png'), limits, 'SegmentCommodity', options);
    expect([image.width, image.height, image.sourcePath]).toEqual([64, 48, path.join(root, 'photo.png')]);
  });

  it('refuses a FIFO at once instead of waiting for a writer forever', async () => {
    const { error, ms } = await refusal(path.join(root, 'pipe.png'));
    expect(error.code).toBe('IMAGE_INVALID');
    expect(error.message).toContain('FIFO');
    expect(ms).toBeLessThan(1000);
  }, 5000);

  it('refuses a 1 GB (sparse) file from its size, without reading it', async () => {
    const { error, ms, rssGrowth } = await refusal(path.join(root, 'huge.png'));
    expect(error.code).toBe('IMAGE_TOO_LARGE');
    expect(error.options.details).toMatchObject({ bytes: 1024 * 1024 * 1024, limitBytes: limits.maxBytes });
    expect(ms).toBeLessThan(1000);
    expect(rssGrowth).toBeLessThan(16 * 1024 * 1024);
  }, 10_000);

  for (const device of ['/dev/zero', '/dev/urandom']) {
    it(`refuses ${device}, a device that never ends`, async () => {
      expect(existsSync(device)).toBe(true);
      const { error, ms, rssGrowth } = await refusal(device);
      expect(error.code).toBe('IMAGE_INVALID');
      expect(error.message).toContain('character device');
      expect(ms).toBeLessThan(1000);
      expect(rssGrowth).toBeLessThan(16 * 1024 * 1024);
    }, 5000);
  }

  it('refuses a link to a device the same way', async () => {
    const { error } = await refusal(path.join(root, 'zero.png'));
    expect(error.code).toBe('IMAGE_INVALID');
  }, 5000);
});
