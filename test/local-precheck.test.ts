import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { startTestServer, type TestServer } from './support/server.js';
import { ADMIN_TOKEN, jsonRequest, mintToken } from './support/rest.js';
import { discOnWhite } from './support/images.js';

/**
 * The embedded provider decodes every input itself before its model runs, so the pre-check reads only the header
 * (format, size, dimensions) and the pixels are decoded once: a body that does not decode is still IMAGE_INVALID,
 * and the call is not charged.
 */
describe('the pre-check of an embedded-model call reads the header; the provider decodes', () => {
  const SERVICE = 'product-background-removal';
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ IMAGESEG_PROVIDER: 'local', PAYMENTS: 'required', ADMIN_TOKEN });
  });
  afterAll(async () => server?.close());

  const segment = (ImageURL: string, token: string) =>
    jsonRequest(server.url, 'POST', `/api/tools/${SERVICE}`, { ImageURL }, { 'X-Payment-Token': token });

  it('refuses a truncated PNG data URL with IMAGE_INVALID and leaves the token its use', async () => {
    const png = await sharp(await discOnWhite(200, 150)).png().toBuffer();
    const token = await mintToken(server.url, SERVICE, 1);
    const truncated = await segment(`data:image/png;base64,${png.subarray(0, Math.floor(png.length / 2)).toString('base64')}`, token);
    expect(truncated.status).toBe(422);
    expect(truncated.body.error).toMatchObject({ code: 'IMAGE_INVALID', details: { field: 'ImageURL', charged: false } });
    expect(truncated.body.error.message).toContain('ImageURL: not a decodable image');
    const good = await segment(`data:image/png;base64,${png.toString('base64')}`, token);
    expect(good.status).toBe(200);
  }, 90_000);

  it('still refuses by the header what the header shows, uncharged', async () => {
    const token = await mintToken(server.url, SERVICE, 1);
    const garbage = await segment(`data:image/png;base64,${Buffer.from('this is not an image at all, just text long enough').toString('base64')}`, token);
    expect(garbage.status).toBe(422);
    expect(garbage.body.error.message).toContain('ImageURL: not a readable image');
    const tiff = await segment(`data:image/tiff;base64,${(await sharp(await discOnWhite(64, 64)).tiff().toBuffer()).toString('base64')}`, token);
    expect(tiff.body.error.message).toContain('format tiff is not accepted');
    expect((await segment(`data:image/png;base64,${(await sharp(await discOnWhite(64, 64)).png().toBuffer()).toString('base64')}`, token)).status).toBe(200);
  });
});
