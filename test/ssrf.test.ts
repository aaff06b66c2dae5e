import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadImage, type ImageLoadOptions } from '../src/images/load.js';
import { isPublicAddress } from '../src/fetch/address-guard.js';
import { AppError } from '../src/errors.js';
import { discOnWhite } from './support/images.js';

const limits = { formats: ['png', 'jpeg'] as const, maxBytes: 3 * 1024 * 1024 };
const guarded: ImageLoadOptions = { allowPrivateUrls: false, fileRoots: [], timeoutMs: 1500, maxRedirects: 3 };

/** Spellings of addresses a fetched URL must never reach. */
const REFUSED_URLS = [
  'http://127.0.0.1/a.png', 'http://127.1/a.png', 'http://127.0.1/a.png', 'http://2130706433/a.png', 'http://0x7f000001/a.png',
  'http://0x7f.0x0.0x0.0x1/a.png', 'http://0177.0.0.1/a.png', 'http://017700000001/a.png', 'http://127.255.255.254/a.png',
  'http://localhost/a.png', 'http://LocalHost:80/a.png', 'http://0.0.0.0/a.png', 'http://0/a.png', 'http://[::]/a.png',
  'http://[::1]/a.png', 'http://[0:0:0:0:0:0:0:1]/a.png', 'http://[::ffff:127.0.0.1]/a.png', 'http://[::ffff:7f00:1]/a.png',
  'http://[0:0:0:0:0:ffff:127.0.0.1]/a.png', 'http://[::127.0.0.1]/a.png', 'http://[64:ff9b::7f00:1]/a.png', 'http://[2002:7f00:1::]/a.png',
  'http://10.0.0.1/a.png', 'http://10.255.255.255/a.png', 'http://012.0.0.1/a.png', 'http://167772161/a.png',
  'http://172.16.0.1/a.png', 'http://172.31.255.255/a.png', 'http://192.168.0.1/a.png', 'http://192.168.1.1:8080/a.png',
  'http://0xc0a80001/a.png', 'http://3232235521/a.png', 'http://169.254.169.254/latest/meta-data/', 'http://169.254.0.1/a.png',
  'http://0xa9fea9fe/', 'http://2852039166/', 'http://[::ffff:169.254.169.254]/', 'http://[fd00:ec2::254]/latest/meta-data/',
  'http://100.64.0.1/a.png', 'http://100.127.255.255/a.png', 'http://224.0.0.1/a.png', 'http://239.255.255.250/a.png',
  'http://255.255.255.255/a.png', 'http://240.0.0.1/a.png', 'http://198.18.0.1/a.png', 'http://192.0.0.1/a.png',
  'http://[fe80::1]/a.png', 'http://[fc00::1]/a.png', 'http://[fd12:3456::1]/a.png', 'http://[ff02::1]/a.png',
  'https://127.0.0.1/a.png', 'https://[::1]:443/a.png', 'http://user:pass@127.0.0.1/a.png', 'http://127.0.0.1:22/',
  'http://[::ffff:a00:1]/a.png', 'http://[::ffff:c0a8:1]/a.png',
];

/** Inputs that are not fetchable URLs at all over HTTP. */
const REFUSED_SCHEMES = ['file:///etc/passwd', 'gopher://127.0.0.1:70/', 'ftp://example.com/a.png', 'dict://127.0.0.1:11211/', '/etc/passwd', 'javascript:alert(1)'];

describe('image URL guard (SSRF)', () => {
  it(`refuses all ${REFUSED_URLS.length} private, loopback, link-local, CGNAT, multicast and metadata spellings`, async () => {
    expect(REFUSED_URLS.length).toBeGreaterThanOrEqual(50);
    for (const url of REFUSED_URLS) {
      const error = await loadImage('ImageURL', url, limits, 'SegmentCommodity', guarded).then(
        () => undefined,
        (caught: unknown) => caught,
      );
      expect(error, url).toBeInstanceOf(AppError);
      expect((error as AppError).code, url).toBe('IMAGE_UNREACHABLE');
      expect((error as AppError).message, url).toContain('private or loopback addresses are refused');
    }
  });

  it('refuses non-http schemes and local paths over HTTP', async () => {
    for (const input of REFUSED_SCHEMES) {
      const error = await loadImage('ImageURL', input, limits, 'SegmentCommodity', guarded).then(() => undefined, (caught: unknown) => caught);
      expect(error, input).toBeInstanceOf(AppError);
      expect((error as AppError).code, input).toBe('INVALID_ARGUMENT');
    }
  });

  it('treats public addresses as public', () => {
    for (const address of ['8.8.8.8', '1.1.1.1', '47.100.1.1', '2606:4700::1111']) expect(isPublicAddress(address), address).toBe(true);
    for (const address of ['127.0.0.1', '::1', '::ffff:10.0.0.1', '169.254.169.254', 'not-an-ip']) expect(isPublicAddress(address), address).toBe(false);
  });
});

describe('image fetching limits (loopback allowed explicitly, as tests may)', () => {
  let server: http.Server;
  let base: string;
  let png: Buffer;
  const allowed: ImageLoadOptions = { ...guarded, allowPrivateUrls: true };

  beforeAll(async () => {
    png = await discOnWhite(64, 48);
    server = http.createServer((request, response) => {
      switch (request.url) {
        case '/image.png':
          return void response.writeHead(200, { 'content-type': 'image/png' }).end(png);
        case '/hop':
          return void response.writeHead(302, { location: '/image.png' }).end();
        case '/loop':
          return void response.writeHead(302, { location: '/loop' }).end();
        case '/to-file':
          return void response.writeHead(302, { location: 'file:///etc/passwd' }).end();
        case '/endless': {
          response.writeHead(200, { 'content-type': 'image/png' });
          const chunk = Buffer.alloc(64 * 1024, 1);
          const pump = () => {
            while (response.write(chunk)) { /* keep the pipe full */ }
          };
          response.on('drain', pump);
          pump();
          request.on('close', () => response.destroy());
          return;
        }
        case '/slow-loris': {
          response.writeHead(200, { 'content-type': 'image/png' });
          const timer = setInterval(() => response.write(Buffer.from([0])), 200);
          request.on('close', () => clearInterval(timer));
          return;
        }
        default:
          response.writeHead(404).end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(() => {
    server.closeAllConnections();
    server.close();
  });

  const refusal = (url: string) => loadImage('ImageURL', url, limits, 'SegmentCommodity', allowed).then(() => undefined, (caught: unknown) => caught as AppError);

  it('follows a redirect to an image', async () => {
    const image = await loadImage('ImageURL', `${base}/hop`, limits, 'SegmentCommodity', allowed);
    expect([image.format, image.width, image.height]).toEqual(['png', 64, 48]);
  });

  it('stops redirect loops, and redirects to other schemes', async () => {
    expect((await refusal(`${base}/loop`))?.message).toContain('too many redirects');
    expect((await refusal(`${base}/to-file`))?.message).toContain('redirect to file: refused');
  });

  it('caps an endless body at the byte limit while streaming', async () => {
    const error = await refusal(`${base}/endless`);
    expect(error?.code).toBe('IMAGE_TOO_LARGE');
  });

  it('gives up on a slow-loris body at the overall deadline', async () => {
    const startedAt = Date.now();
    const error = await refusal(`${base}/slow-loris`);
    expect(error?.code).toBe('IMAGE_UNREACHABLE');
    expect(Date.now() - startedAt).toBeLessThan(guarded.timeoutMs + 1000);
  });
});
