import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import sharp from 'sharp';
import { startTestServer, type TestServer } from './support/server.js';

/** What a newcomer does after `npm start` with no account: the embedded model, over REST. */
describe('the embedded default over HTTP', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ IMAGESEG_PROVIDER: 'local', PAYMENTS: 'off' });
  });
  afterAll(async () => server?.close());

  it('cuts out the sample product from base64 without freezing the server while the model runs', async () => {
    const photo = readFileSync('examples/product.jpg');
    const removeBackground = () =>
      fetch(`${server.url}/api/tools/product-background-removal`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ ImageURL: photo.toString('base64') }),
      });
    expect((await removeBackground()).status).toBe(200); // loads the model

    // A warm ISNet pass takes seconds on this machine; run on the main thread it stalls the event loop for all of
    // them (measured 2.5 s), so no other request is answered. In the worker thread the loop stays free.
    const delay = monitorEventLoopDelay({ resolution: 10 });
    delay.enable();
    const response = await removeBackground();
    delay.disable();
    expect(delay.max / 1e6).toBeLessThan(1000);

    const body = (await response.json()) as { data: { ImageURL: string } };
    const png = Buffer.from(await (await fetch(body.data.ImageURL)).arrayBuffer());
    const { data, info } = await sharp(png).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height, info.channels]).toEqual([640, 480, 4]);
    const alphaAt = (x: number, y: number) => data[(y * info.width + x) * 4 + 3];
    expect(alphaAt(10, 10)).toBeLessThan(16); // sky
    expect(alphaAt(600, 440)).toBeLessThan(16); // table
    expect(alphaAt(300, 320)).toBeGreaterThan(240); // mug body
    expect(alphaAt(470, 260)).toBeGreaterThan(200); // mug handle
  }, 90_000);
});
