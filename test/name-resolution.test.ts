import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { guardedLookup, type HostResolver } from '../src/fetch/address-guard.js';
import { loadImage, type ImageLoadOptions } from '../src/images/load.js';
import { AppError } from '../src/errors.js';
import { createLogger } from '../src/logger.js';
import type { Config } from '../src/config.js';
import { createAlibabaProvider } from '../src/providers/alibaba/index.js';
import { startAlibabaEmulator, type AlibabaEmulator, type OpenPlatformEmulator, type OssEmulator } from './emulator/index.js';
import { emulatorEnvironment, startTestServer, type TestServer } from './support/server.js';
import { discOnWhite } from './support/images.js';
import { startUploadStack, type UploadStack } from './support/upload-stack.js';

/** Made-up names (`.test` resolves nowhere) given addresses the way a DNS server would. */
function mappedResolver(names: Record<string, string[]>): HostResolver & { asked: string[] } {
  const asked: string[] = [];
  const resolve = async (hostname: string) => {
    asked.push(hostname);
    const addresses = names[hostname.toLowerCase()];
    if (!addresses) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    return addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
  return Object.assign(resolve, { asked });
}

const limits = { formats: ['png', 'jpeg'] as const, maxBytes: 3 * 1024 * 1024 };
const base: ImageLoadOptions = { allowPrivateUrls: true, fileRoots: [], timeoutMs: 2000, maxRedirects: 3 };
const failure = (promise: Promise<unknown>) => promise.then(() => undefined, (error: unknown) => error as AppError);

describe('the guarded lookup answers Node the way Node asks', () => {
  const ask = (lookup: ReturnType<typeof guardedLookup>, options: { all?: boolean; family?: number }) =>
    new Promise<{ error: NodeJS.ErrnoException | null; address: unknown; family?: number }>((resolve) =>
      lookup('images.example.test', options, (error, address, family) => resolve({ error, address, family })),
    );

  it('gives every address to {all: true}, each checked, and one address otherwise', async () => {
    const lookup = guardedLookup({ allowPrivateUrls: false, resolve: mappedResolver({ 'images.example.test': ['203.0.114.7', '2606:4700::1111'] }) });
    expect(await ask(lookup, { all: true })).toMatchObject({ error: null, address: [{ address: '203.0.114.7', family: 4 }, { address: '2606:4700::1111', family: 6 }] });
    expect(await ask(lookup, {})).toMatchObject({ error: null, address: '203.0.114.7', family: 4 });
    expect(await ask(lookup, { all: true, family: 6 })).toMatchObject({ error: null, address: [{ address: '2606:4700::1111', family: 6 }] });
  });

  it('refuses a name when any of its addresses is private', async () => {
    const lookup = guardedLookup({ allowPrivateUrls: false, resolve: mappedResolver({ 'images.example.test': ['8.8.8.8', '10.0.0.7'] }) });
    for (const options of [{ all: true }, {}]) {
      const { error } = await ask(lookup, options);
      expect(error?.code).toBe('ADDRESS_REFUSED');
      expect(error?.message).toContain('10.0.0.7');
    }
  });
});

describe('image URLs with host names: input fetch and redirect hops', () => {
  let server: http.Server;
  let port: number;
  let png: Buffer;
  const hosts: string[] = [];

  beforeAll(async () => {
    png = await discOnWhite(64, 48);
    server = http.createServer((request, response) => {
      hosts.push(String(request.headers.host));
      if (request.url === '/product.jpg') return void response.writeHead(200, { 'content-type': 'image/png' }).end(png);
      if (request.url === '/hop') return void response.writeHead(302, { location: `http://images.example.test:${port}/product.jpg` }).end();
      response.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => {
    server.closeAllConnections();
    server.close();
  });
  beforeEach(() => void (hosts.length = 0));

  it('fetches http://localhost:<port>/product.jpg when private URLs are allowed', async () => {
    const image = await loadImage('ImageURL', `http://localhost:${port}/product.jpg`, limits, 'SegmentCommodity', base);
    expect([image.format, image.width, image.height]).toEqual(['png', 64, 48]);
    expect(hosts).toEqual([`localhost:${port}`]);
  });

  it('fetches a name the resolver maps, and connects to the address it checked', async () => {
    const resolve = mappedResolver({ 'images.example.test': ['127.0.0.1'] });
    const image = await loadImage('ImageURL', `http://images.example.test:${port}/product.jpg`, limits, 'SegmentCommodity', { ...base, resolve });
    expect(image.width).toBe(64);
    expect(resolve.asked).toEqual(['images.example.test']);
    expect(hosts).toEqual([`images.example.test:${port}`]);
  });

  it('follows a redirect hop to a host name, resolving it under the guard', async () => {
    const resolve = mappedResolver({ 'images.example.test': ['127.0.0.1'] });
    const image = await loadImage('ImageURL', `http://127.0.0.1:${port}/hop`, limits, 'SegmentCommodity', { ...base, resolve });
    expect(image.height).toBe(48);
    expect(hosts).toEqual([`127.0.0.1:${port}`, `images.example.test:${port}`]);
  });

  it('refuses a name with a private address among its answers, without connecting', async () => {
    const resolve = mappedResolver({ 'images.example.test': ['127.0.0.1'], 'public.example.test': ['203.0.114.9', '127.0.0.1'] });
    const guarded = { ...base, allowPrivateUrls: false, resolve };
    for (const url of [`http://images.example.test:${port}/product.jpg`, `http://public.example.test:${port}/product.jpg`]) {
      const error = await failure(loadImage('ImageURL', url, limits, 'SegmentCommodity', guarded));
      expect(error?.code, url).toBe('IMAGE_UNREACHABLE');
      expect(error?.message, url).toContain('private or loopback addresses are refused');
    }
    expect(hosts).toEqual([]);
  });
});

describe('image fetches keep connections alive only for the answer that was checked', () => {
  let server: http.Server;
  let port: number;
  let connections = 0;

  beforeAll(async () => {
    const png = await discOnWhite(64, 48);
    const served = new WeakMap<object, number>();
    server = http.createServer((request, response) => {
      const before = served.get(request.socket) ?? 0;
      served.set(request.socket, before + 1);
      // /once: a server that drops a kept-alive connection when a second request comes on it.
      if (request.url === '/once' && before > 0) return void request.socket.destroy();
      response.writeHead(200, { 'content-type': 'image/png' }).end(png);
    });
    server.on('connection', () => void (connections += 1));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => {
    server.closeAllConnections();
    server.close();
  });

  it('reuses one connection for the same checked answer', async () => {
    const resolve = mappedResolver({ 'keep.example.test': ['127.0.0.1'] });
    const before = connections;
    for (let i = 0; i < 3; i += 1) await loadImage('ImageURL', `http://keep.example.test:${port}/a.png`, limits, 'SegmentCommodity', { ...base, resolve });
    expect(connections - before).toBe(1);
    expect(resolve.asked).toHaveLength(3);
  });

  it('asks again on a new connection when the server drops the kept-alive one it was sent on', async () => {
    const resolve = mappedResolver({ 'drop.example.test': ['127.0.0.1'] });
    const url = `http://drop.example.test:${port}/once`;
    const before = connections;
    expect((await loadImage('ImageURL', url, limits, 'SegmentCommodity', { ...base, resolve })).width).toBe(64);
    expect((await loadImage('ImageURL', url, limits, 'SegmentCommodity', { ...base, resolve })).width).toBe(64);
    expect(connections - before).toBe(2);
  });

  it('never reuses a kept-alive socket once the name resolves elsewhere: a refused answer is refused, a new one gets a new connection', async () => {
    const names: Record<string, string[]> = { 'moving.example.test': ['127.0.0.1'] };
    const resolve = mappedResolver(names);
    const url = `http://moving.example.test:${port}/a.png`;
    expect((await loadImage('ImageURL', url, limits, 'SegmentCommodity', { ...base, resolve })).width).toBe(64);
    const before = connections;
    // The pooled socket goes to 127.0.0.1; each new answer is checked, and the old socket is not taken for it.
    names['moving.example.test'] = ['10.0.0.7'];
    const refused = await failure(loadImage('ImageURL', url, limits, 'SegmentCommodity', { ...base, allowPrivateUrls: false, resolve }));
    expect(refused?.message).toContain('private or loopback addresses are refused');
    names['moving.example.test'] = ['8.8.8.8'];
    const elsewhere = await failure(loadImage('ImageURL', url, limits, 'SegmentCommodity', { ...base, allowPrivateUrls: false, resolve, timeoutMs: 300 }));
    expect(elsewhere?.code).toBe('IMAGE_UNREACHABLE');
    names['moving.example.test'] = ['127.0.0.2'];
    const moved = await failure(loadImage('ImageURL', url, limits, 'SegmentCommodity', { ...base, resolve }));
    expect(moved?.code).toBe('IMAGE_UNREACHABLE');
    expect(connections - before).toBe(0);
  });
});

describe('Alibaba\'s result URLs on a host name: the fetch of deliver stored / inline', () => {
  let emulator: AlibabaEmulator;
  let server: TestServer;
  beforeAll(async () => {
    emulator = await startAlibabaEmulator({ urlHost: 'localhost' });
    server = await startTestServer(emulatorEnvironment(emulator));
  });
  afterAll(async () => {
    await server?.close();
    await emulator?.close();
  });

  for (const deliver of ['stored', 'inline'] as const) {
    it(`fetches the result from http://localhost:<port>/results/... for deliver="${deliver}"`, async () => {
      // The input on the IP literal (a passthrough host), so that only the result's URL carries a name.
      const hosted = emulator.hostImage(await discOnWhite());
      expect(hosted).toMatch(/^http:\/\/localhost:\d+\/hosted\//);
      const imageUrl = hosted.replace('//localhost:', '//127.0.0.1:');
      const response = await fetch(`${server.url}/api/tools/product-background-removal`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ ImageURL: imageUrl, deliver }),
      });
      const body = (await response.json()) as { data: { ImageURL: string }; error?: unknown };
      expect(response.status, JSON.stringify(body.error)).toBe(200);
      expect(emulator.calls.at(-1)!.params.ImageURL).toBe(imageUrl);
      expect(body.data.ImageURL.startsWith(deliver === 'stored' ? `${server.url}/results/` : 'data:image/png;base64,')).toBe(true);
    });
  }
});

describe('the OSS upload resolves the granted bucket host under the guard', () => {
  let emulator: AlibabaEmulator;
  let oss: OssEmulator;
  let openPlatform: OpenPlatformEmulator;
  let server: TestServer;
  let stack: UploadStack;
  let agent: https.Agent;

  beforeAll(async () => {
    stack = await startUploadStack();
    ({ emulator, oss, openPlatform, server } = stack);
    // Trusts the emulator's certificate and nothing more: no lookup of its own, so the product's resolves the name.
    agent = new https.Agent({ ca: oss.certificate });
  });
  afterAll(async () => {
    agent?.destroy();
    await stack?.close();
  });
  beforeEach(() => {
    for (const calls of [emulator.calls, openPlatform.calls, oss.uploads]) calls.length = 0;
  });

  function useProvider(images: Partial<ImageLoadOptions>) {
    // The provider hands config.images to the upload's guarded lookup, so a test resolver rides along there.
    const config = { ...server.context.config, upstreamRetries: 1, images: { ...server.context.config.images, ...images } } as unknown as Config;
    const provider = createAlibabaProvider(config, createLogger('silent'), { ossAgent: agent });
    server.context.providers.select = () => provider;
  }
  const upload = async () => {
    const response = await fetch(`${server.url}/api/tools/product-background-removal`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ImageURL: `data:image/png;base64,${(await discOnWhite()).toString('base64')}` }),
    });
    return { status: response.status, body: (await response.json()) as { error?: { code: string; message: string } } };
  };

  it('posts to https://{Bucket}.{Endpoint}/ through the resolver', async () => {
    const resolve = mappedResolver({ [`${oss.bucket}.${oss.endpointHost}`]: ['127.0.0.1'] });
    useProvider({ resolve });
    const { status, body } = await upload();
    expect(status, JSON.stringify(body.error)).toBe(200);
    expect(resolve.asked).toEqual([`${oss.bucket}.${oss.endpointHost}`]);
    expect(oss.uploads).toHaveLength(1);
    expect(emulator.calls.map((call) => call.action)).toEqual(['SegmentCommodity']);
  });

  it('refuses to post an image to a bucket host that resolves to a private address', async () => {
    useProvider({ allowPrivateUrls: false, resolve: mappedResolver({ [`${oss.bucket}.${oss.endpointHost}`]: ['127.0.0.1'] }) });
    const { status, body } = await upload();
    expect(status).toBe(502);
    expect(body.error?.message).toContain('refusing to fetch from non-public address 127.0.0.1');
    expect(oss.uploads).toHaveLength(0);
    expect(emulator.calls).toHaveLength(0);
  });
});
