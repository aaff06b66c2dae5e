import http from 'node:http';
import https from 'node:https';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAlibabaEmulator, startOpenPlatformEmulator, startOssEmulator, type AlibabaEmulator, type OpenPlatformEmulator, type OssEmulator } from './emulator/index.js';
import { emulatorEnvironment, startTestServer, type TestServer } from './support/server.js';
import { decodeAlpha, discOnWhite } from './support/images.js';
import { createAlibabaProvider } from '../src/providers/alibaba/index.js';
import { createLogger } from '../src/logger.js';

const MIB = 1024 * 1024;

/** A white square on black: a rough mask of the disc in discOnWhite(). */
async function roughMask(width = 320, height = 240): Promise<Buffer> {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"><rect width="100%" height="100%" fill="#000"/><rect x="${width / 2 - 70}" y="${height / 2 - 70}" width="140" height="140" fill="#fff"/></svg>`;
  return sharp(Buffer.from(svg)).png().toBuffer();
}

function form(parts: Record<string, Buffer | string>): FormData {
  const body = new FormData();
  for (const [name, value] of Object.entries(parts)) {
    if (typeof value === 'string') body.append(name, value);
    else body.append(name, new Blob([new Uint8Array(value)], { type: 'image/png' }), `${name}.png`);
  }
  return body;
}

async function post(url: string, body: BodyInit | Buffer, headers: Record<string, string> = {}) {
  const response = await fetch(url, { method: 'POST', headers, body: Buffer.isBuffer(body) ? new Uint8Array(body) : body });
  const bytes = Buffer.from(await response.arrayBuffer());
  const json = () => JSON.parse(bytes.toString('utf8')) as Record<string, any>;
  return { status: response.status, headers: response.headers, bytes, json };
}

/**
 * A multipart body sent chunked (no Content-Length) in 1 MiB writes: one file part `ImageURL` of `fileBytes` bytes.
 * Resolves with the answer and how much was written by then; the server may answer before it has all of it.
 */
function streamMultipart(url: string, fileBytes: number, headers: Record<string, string> = {}): Promise<{ status: number; json: Record<string, any>; written: number }> {
  return new Promise((resolve, reject) => {
    const boundary = 'imageseg-test-boundary';
    const request = http.request(url, { method: 'POST', headers: { 'content-type': `multipart/form-data; boundary=${boundary}`, ...headers } });
    let answered = false;
    let written = 0;
    request.on('response', (response) => {
      answered = true;
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString('utf8')), written }));
    });
    request.on('error', (error) => {
      if (!answered) reject(error);
    });
    request.write(`--${boundary}\r\nContent-Disposition: form-data; name="ImageURL"; filename="big.png"\r\nContent-Type: image/png\r\n\r\n`);
    const filler = Buffer.alloc(MIB, 0x41);
    let left = fileBytes;
    const pump = (): void => {
      while (left > 0 && !answered && !request.destroyed) {
        const chunk = filler.subarray(0, Math.min(MIB, left));
        left -= chunk.length;
        written += chunk.length;
        if (!request.write(chunk)) return void request.once('drain', pump);
      }
      if (left <= 0 && !request.destroyed) request.end(`\r\n--${boundary}--\r\n`);
    };
    pump();
  });
}

describe('uploads over REST with the embedded provider', () => {
  let server: TestServer;
  let photo: Buffer;
  let mask: Buffer;
  beforeAll(async () => {
    server = await startTestServer({ IMAGESEG_PROVIDER: 'local', PAYMENTS: 'off' });
    [photo, mask] = await Promise.all([discOnWhite(), roughMask()]);
  });
  afterAll(async () => server?.close());

  it('takes multipart/form-data file parts named as the Action image parameters', async () => {
    const answer = await post(`${server.url}/api/tools/mask-refinement`, form({ ImageURL: photo, MaskImageURL: mask, deliver: 'stored' }));
    expect(answer.status, answer.bytes.toString()).toBe(200);
    const body = answer.json();
    expect(body.data.Action).toBe('RefineMask');
    const refined = Buffer.from(await (await fetch(body.data.Elements[0].ImageURL)).arrayBuffer());
    const { width, height } = await sharp(refined).metadata();
    expect([width, height]).toEqual([320, 240]);
  });

  it('takes numbers and booleans from form fields as text', async () => {
    const answer = await post(`${server.url}/api/tools/mask-refinement`, form({ ImageURL: photo, MaskImageURL: mask, width: '160', format: 'png', deliver: 'stored' }));
    expect(answer.status, answer.bytes.toString()).toBe(200);
    const refined = Buffer.from(await (await fetch(answer.json().data.Elements[0].ImageURL)).arrayBuffer());
    expect((await sharp(refined).metadata()).width).toBe(160);
  });

  it('takes a raw image/* body as the first image parameter, the others from the query string', async () => {
    const maskUrl = encodeURIComponent(`data:image/png;base64,${(await roughMask(320, 240)).toString('base64')}`);
    const answer = await post(`${server.url}/api/tools/mask-refinement?MaskImageURL=${maskUrl}&deliver=stored`, photo, { 'content-type': 'image/png' });
    expect(answer.status, answer.bytes.toString()).toBe(200);
    expect(answer.json().data.Elements[0].ImageURL).toMatch(/\/results\//);
  });

  it('names an unknown file part and a missing image parameter', async () => {
    const unknown = await post(`${server.url}/api/tools/mask-refinement`, form({ Picture: photo }));
    expect(unknown.status).toBe(400);
    expect(unknown.json().error.message).toMatch(/Picture.*ImageURL or MaskImageURL/);
    const missing = await post(`${server.url}/api/tools/mask-refinement`, form({ ImageURL: photo }));
    expect(missing.status).toBe(400);
    expect(missing.json().error.details.fields).toContain('MaskImageURL');
  });

  it('refuses a file part over the image limit while it streams, with 413', async () => {
    const answer = await streamMultipart(`${server.url}/api/tools/mask-refinement`, 40 * MIB);
    expect(answer.status).toBe(413);
    expect(answer.json.error.code).toBe('IMAGE_TOO_LARGE');
    expect(answer.json.error.message).toMatch(/ImageURL.*3\.0 MB.*RefineMask/);
    expect(answer.written).toBeLessThan(20 * MIB);
  });

  it('answers Accept: image/png with the result image itself, its request id and the JSON summary in headers', async () => {
    const answer = await post(`${server.url}/api/tools/mask-refinement`, form({ ImageURL: photo, MaskImageURL: mask }), { accept: 'image/png' });
    expect(answer.status, answer.bytes.toString()).toBe(200);
    expect(answer.headers.get('content-type')).toBe('image/png');
    const decoded = await sharp(answer.bytes).metadata();
    expect([decoded.format, decoded.width, decoded.height]).toEqual(['png', 320, 240]);
    const summary = JSON.parse(answer.headers.get('x-imageseg-output')!) as Record<string, any>;
    expect(summary.data.Action).toBe('RefineMask');
    expect(answer.headers.get('x-request-id')).toBe(summary.requestId);

    const webp = await post(`${server.url}/api/tools/mask-refinement`, form({ ImageURL: photo, MaskImageURL: mask }), { accept: 'image/webp' });
    expect((await sharp(webp.bytes).metadata()).format).toBe('webp');
    const json = await post(`${server.url}/api/tools/mask-refinement`, form({ ImageURL: photo, MaskImageURL: mask }), { accept: '*/*' });
    expect(json.headers.get('content-type')).toMatch(/application\/json/);
  });
});

describe('uploads over REST through the Alibaba emulator, paid', () => {
  let emulator: AlibabaEmulator;
  let oss: OssEmulator;
  let openPlatform: OpenPlatformEmulator;
  let ossAgent: https.Agent;
  let server: TestServer;
  let photo: Buffer;

  beforeAll(async () => {
    emulator = await startAlibabaEmulator();
    oss = await startOssEmulator();
    openPlatform = await startOpenPlatformEmulator({ oss, accessKeyId: emulator.accessKeyId, accessKeySecret: emulator.accessKeySecret });
    emulator.addDownloadRoute((url) => oss.loopbackUrl(url));
    server = await startTestServer({ ...emulatorEnvironment(emulator), IMAGESEG_OPENPLATFORM_ENDPOINT: openPlatform.endpoint, PAYMENTS: 'required' });
    ossAgent = oss.createAgent();
    const provider = createAlibabaProvider({ ...server.context.config, upstreamRetries: 1 }, createLogger('silent'), { ossAgent });
    server.context.providers.select = () => provider;
    photo = await discOnWhite();
  });
  afterAll(async () => {
    ossAgent?.destroy();
    await server?.close();
    await openPlatform?.close();
    await oss?.close();
    await emulator?.close();
  });

  const mint = async (calls: number) => (await server.context.payments.mintToken({ serviceId: 'product-background-removal', calls })).paymentToken;

  it('uploads a multipart file to Alibaba and charges the token once', async () => {
    const token = await mint(2);
    const answer = await post(`${server.url}/api/tools/product-background-removal`, form({ ImageURL: photo }), { 'x-payment-token': token });
    expect(answer.status, answer.bytes.toString()).toBe(200);
    const cutout = Buffer.from(await (await fetch(answer.json().data.ImageURL)).arrayBuffer());
    const { alpha, width } = await decodeAlpha(cutout);
    expect(alpha[120 * width + 160]).toBeGreaterThan(200);
    expect(alpha[5 * width + 5]).toBeLessThan(50);
    expect(emulator.calls.filter((call) => call.action === 'SegmentCommodity')).toHaveLength(1);
    expect((await server.context.payments.describeToken(token))?.callsUsed).toBe(1);
  });

  it('takes a raw image/png body with the other parameters in the query string', async () => {
    const token = await mint(1);
    const answer = await post(`${server.url}/api/tools/product-background-removal?ReturnForm=mask`, photo, { 'content-type': 'image/png', 'x-payment-token': token });
    expect(answer.status, answer.bytes.toString()).toBe(200);
    const segment = emulator.calls.filter((call) => call.action === 'SegmentCommodity').at(-1)!;
    expect(segment.params.ReturnForm).toBe('mask');
    expect((await server.context.payments.describeToken(token))?.callsUsed).toBe(1);
  });

  it('answers an unpaid multipart upload 402 before its file arrives', async () => {
    const answer = await streamMultipart(`${server.url}/api/tools/product-background-removal`, 200 * MIB);
    expect(answer.status).toBe(402);
    expect(answer.json.error).toBe('payment_required');
    expect(answer.written).toBeLessThan(50 * MIB);
  });
});
