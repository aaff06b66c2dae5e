import https from 'node:https';
import { createRequire } from 'node:module';
import { Readable } from 'node:stream';
import sharp from 'sharp';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { AlibabaEmulator, OpenPlatformEmulator, OssEmulator } from './emulator/index.js';
import type { TestServer } from './support/server.js';
import { decodeAlpha, discOnWhite } from './support/images.js';
import { ENVIRONMENT_HELP, loadConfig, type Config } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { createAlibabaProvider } from '../src/providers/alibaba/index.js';
import { passthroughMatcher } from '../src/providers/alibaba/passthrough.js';
import { postObjectForm } from '../src/providers/alibaba/upload.js';
import { startUploadStack, type UploadStack } from './support/upload-stack.js';

let emulator: AlibabaEmulator;
let oss: OssEmulator;
let openPlatform: OpenPlatformEmulator;
let server: TestServer;
let stack: UploadStack;
let ossAgent: https.Agent;
let photo: Buffer;
let photoUrl: string;

/**
 * The server's Alibaba provider, rebuilt with the one thing a test must add: an https agent that trusts the OSS
 * emulator's self-signed certificate and resolves `{Bucket}.{Endpoint}` to loopback. Everything else is the
 * production wiring: the SDK's callApi for AuthorizeFileUpload and the Action, the real multipart POST over TLS.
 */
function useProvider(overrides: Partial<Config> = {}, agent: https.Agent = ossAgent): void {
  const provider = createAlibabaProvider({ ...server.context.config, upstreamRetries: 1, ...overrides }, createLogger('silent'), { ossAgent: agent });
  server.context.providers.select = () => provider;
}

async function post(path: string, body: unknown) {
  const response = await fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: response.status, body: (await response.json()) as Record<string, any> };
}

const dataUrl = (bytes: Buffer) => `data:image/png;base64,${bytes.toString('base64')}`;
const grantedUrl = (index: number) => {
  const grant = openPlatform.calls[index].grant!;
  return `http://${grant.Bucket}.${grant.Endpoint}/${grant.ObjectKey}`;
};

beforeAll(async () => {
  stack = await startUploadStack();
  ({ emulator, oss, openPlatform, server } = stack);
  ossAgent = oss.createAgent();
  photo = await discOnWhite();
  photoUrl = emulator.hostImage(photo);
});

afterAll(async () => {
  ossAgent?.destroy();
  await stack?.close();
});

beforeEach(() => {
  for (const calls of [emulator.calls, openPlatform.calls, oss.uploads]) calls.length = 0;
  emulator.clearFaults();
  openPlatform.clearFaults();
  oss.clearFaults();
  useProvider();
});

describe('getting images to Alibaba: passthrough hosts as they are, anything else uploaded like the SDK\'s Advance calls', () => {
  it('uploads a data: URL image to the granted OSS bucket over TLS and gives SegmentCommodity its URL', async () => {
    const { status, body } = await post('/api/tools/product-background-removal', { ImageURL: dataUrl(photo) });
    expect(status).toBe(200);
    expect(body.data.Action).toBe('SegmentCommodity');

    expect(openPlatform.calls).toHaveLength(1);
    expect(openPlatform.calls[0]).toMatchObject({ action: 'AuthorizeFileUpload', method: 'GET', params: { Product: 'imageseg', RegionId: 'cn-shanghai' } });
    const grant = openPlatform.calls[0].grant!;

    expect(oss.uploads).toHaveLength(1);
    const [upload] = oss.uploads;
    expect(upload).toMatchObject({ bucket: grant.Bucket, key: grant.ObjectKey, overTls: true });
    expect(upload.fields).toEqual({
      key: grant.ObjectKey,
      OSSAccessKeyId: grant.AccessKeyId,
      policy: grant.EncodedPolicy,
      Signature: grant.Signature,
      success_action_status: '201',
    });
    expect(upload.bytes.equals(photo)).toBe(true);

    expect(emulator.calls.map((entry) => entry.action)).toEqual(['SegmentCommodity']);
    expect(emulator.calls[0].params.ImageURL).toBe(`http://${grant.Bucket}.${grant.Endpoint}/${grant.ObjectKey}`);

    // The cutout is of the uploaded pixels: the emulator fetched the object back from the bucket.
    const cutout = await decodeAlpha(Buffer.from(await (await fetch(body.data.ImageURL)).arrayBuffer()));
    expect(cutout.alpha[Math.floor(cutout.height / 2) * cutout.width + Math.floor(cutout.width / 2)]).toBeGreaterThan(200);
    expect(cutout.alpha[0]).toBeLessThan(50);
  });

  it('sends a URL on a passthrough host unchanged, with nothing uploaded', async () => {
    const { status } = await post('/api/tools/product-background-removal', { ImageURL: photoUrl });
    expect(status).toBe(200);
    expect(openPlatform.calls).toHaveLength(0);
    expect(oss.uploads).toHaveLength(0);
    expect(emulator.calls[0].params.ImageURL).toBe(photoUrl);
  });

  it('uploads raw base64, and a URL outside the passthrough hosts from the bytes already fetched', async () => {
    useProvider({ passthroughHosts: ['*.oss-cn-shanghai.aliyuncs.com'] });
    const base64 = await post('/api/tools/product-background-removal', { ImageURL: photo.toString('base64') });
    expect(base64.status).toBe(200);
    const foreign = await post('/api/tools/product-background-removal', { ImageURL: photoUrl });
    expect(foreign.status).toBe(200);

    expect(oss.uploads).toHaveLength(2);
    for (const upload of oss.uploads) expect(upload.bytes.equals(photo)).toBe(true);
    expect(emulator.calls.map((entry) => entry.params.ImageURL)).toEqual([grantedUrl(0), grantedUrl(1)]);
    expect(grantedUrl(0)).not.toBe(grantedUrl(1));
  });

  it('uploads only the image that needs it when an Action takes two', async () => {
    const mask = await sharp(photo).greyscale().negate().threshold(64).png().toBuffer();
    const { status, body } = await post('/api/tools/mask-refinement', { ImageURL: dataUrl(photo), MaskImageURL: emulator.hostImage(mask) });
    expect(status).toBe(200);
    expect(body.data.Action).toBe('RefineMask');
    expect(oss.uploads).toHaveLength(1);
    expect(emulator.calls[0].params.ImageURL).toBe(grantedUrl(0));
    expect(emulator.calls[0].params.MaskImageURL).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/hosted\//);
  });

  it('retries an upload that OSS answered with a server error, under a fresh grant', async () => {
    oss.injectFault({ httpStatus: 503, code: 'ServiceUnavailable', message: 'Please reduce your request rate.' });
    const { status } = await post('/api/tools/product-background-removal', { ImageURL: dataUrl(photo) });
    expect(status).toBe(200);
    expect(openPlatform.calls).toHaveLength(2);
    expect(oss.uploads.map((upload) => upload.key)).toEqual([openPlatform.calls[1].grant!.ObjectKey]);
    expect(emulator.calls[0].params.ImageURL).toBe(grantedUrl(1));
  });

  it('answers an upload OSS refuses (403) with UPSTREAM_ERROR and OSS\'s code, and never calls the Action', async () => {
    oss.injectFault({ httpStatus: 403, code: 'AccessDenied', message: 'Invalid according to Policy: Policy expired.' });
    const { status, body } = await post('/api/tools/product-background-removal', { ImageURL: dataUrl(photo) });
    expect(status).toBe(502);
    expect(body.error).toMatchObject({
      code: 'UPSTREAM_ERROR',
      retryable: false,
      details: { provider: 'alibaba', action: 'PostObject', alibabaCode: 'AccessDenied', httpStatus: 403, field: 'ImageURL', uploadFor: 'SegmentCommodity' },
    });
    expect(body.error.details.requestId).toBeTruthy();
    expect(body.error.message).toContain('ImageURL: could not upload the image to Alibaba Cloud OSS for SegmentCommodity');
    expect(body.error.message).toContain('AccessDenied: Invalid according to Policy: Policy expired.');
    expect(openPlatform.calls).toHaveLength(1);
    expect(oss.uploads).toHaveLength(0);
    expect(emulator.calls).toHaveLength(0);
  });

  it('answers a throttled AuthorizeFileUpload with UPSTREAM_THROTTLED after its retries, and never calls the Action', async () => {
    openPlatform.injectFault({ action: 'AuthorizeFileUpload', code: 'Throttling.User', httpStatus: 400, times: 2 });
    const { status, body } = await post('/api/tools/product-background-removal', { ImageURL: dataUrl(photo) });
    expect(status).toBe(429);
    expect(body.error).toMatchObject({
      code: 'UPSTREAM_THROTTLED',
      retryable: true,
      details: { provider: 'alibaba', action: 'AuthorizeFileUpload', alibabaCode: 'Throttling.User', field: 'ImageURL', uploadFor: 'SegmentCommodity' },
    });
    expect(openPlatform.calls).toHaveLength(2);
    expect(oss.uploads).toHaveLength(0);
    expect(emulator.calls).toHaveLength(0);
  });

  it('does not post an image to a bucket host whose certificate does not verify', async () => {
    const trustingNothing = new https.Agent({ lookup: oss.lookup });
    try {
      useProvider({}, trustingNothing);
      const { status, body } = await post('/api/tools/product-background-removal', { ImageURL: dataUrl(photo) });
      expect(status).toBe(502);
      expect(body.error).toMatchObject({ code: 'UPSTREAM_ERROR', retryable: false, details: { action: 'PostObject' } });
      expect(body.error.details.alibabaCode).toMatch(/CERT/);
      expect(oss.uploads).toHaveLength(0);
      expect(emulator.calls).toHaveLength(0);
    } finally {
      trustingNothing.destroy();
    }
  });
});

describe('the OSS emulator holds uploads to the grant, as OSS does', () => {
  function postForm(form: Buffer, boundary: string, grant: { Bucket: string; Endpoint: string }): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const request = https.request(
        `https://${grant.Bucket}.${grant.Endpoint}/`,
        { method: 'POST', agent: ossAgent, headers: { 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-length': String(form.length) } },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        },
      );
      request.on('error', reject);
      request.end(form);
    });
  }

  const asGrant = (issued: ReturnType<OssEmulator['issueGrant']>) => ({
    accessKeyId: issued.AccessKeyId,
    bucket: issued.Bucket,
    endpoint: issued.Endpoint,
    encodedPolicy: issued.EncodedPolicy,
    objectKey: issued.ObjectKey,
    signature: issued.Signature,
  });

  it('accepts the form the product sends and refuses a forged signature or another key', async () => {
    const issued = oss.issueGrant();
    const image = { bytes: photo, mimeType: 'image/png' };
    const accepted = await postForm(postObjectForm(asGrant(issued), image, 'b1'), 'b1', issued);
    expect(accepted.status).toBe(201);
    expect(accepted.body).toContain(`<Key>${issued.ObjectKey}</Key>`);

    const forged = await postForm(postObjectForm({ ...asGrant(issued), signature: 'AAAA' + issued.Signature.slice(4) }, image, 'b2'), 'b2', issued);
    expect(forged.status).toBe(403);
    expect(forged.body).toContain('<Code>SignatureDoesNotMatch</Code>');

    const elsewhere = await postForm(postObjectForm({ ...asGrant(issued), objectKey: 'imageseg/someone-else.png' }, image, 'b3'), 'b3', issued);
    expect(elsewhere.status).toBe(403);
    expect(elsewhere.body).toContain('Policy Condition failed');
  });
});

describe('the emulators speak the official SDK\'s own wire format', () => {
  /**
   * The SDK's segmentCommodityAdvance, unmodified, against the same emulators. Its HTTP client builds its own
   * agent, so the only way in is process-wide: `dns.lookup` answers the emulator's names for this one test, and
   * the SDK's RuntimeOptions.ca trusts the certificate. Its open platform endpoint is a private field.
   */
  it('accepts segmentCommodityAdvance: AuthorizeFileUpload, the PostObject over TLS, then SegmentCommodity with the OSS URL', async () => {
    const dns = createRequire(import.meta.url)('node:dns') as { lookup: (...args: unknown[]) => void };
    const systemLookup = dns.lookup;
    dns.lookup = (hostname: unknown, options: unknown, callback?: unknown) => {
      const [lookupOptions, done] = typeof options === 'function' ? [{}, options] : [options, callback];
      if (String(hostname).endsWith(oss.endpointHost)) return (oss.lookup as (...args: unknown[]) => void)(hostname, lookupOptions, done);
      return systemLookup(hostname, options, callback);
    };
    try {
      const [imageseg, core, dara] = await Promise.all([import('@alicloud/imageseg20191230'), import('@alicloud/openapi-core'), import('@darabonba/typescript')]);
      const exported = imageseg.default as unknown;
      const ImagesegClient = typeof exported === 'function' ? (exported as typeof imageseg.default.default) : imageseg.default.default;
      const client = new ImagesegClient(
        new core.$OpenApiUtil.Config({ accessKeyId: emulator.accessKeyId, accessKeySecret: emulator.accessKeySecret, endpoint: emulator.endpoint, protocol: 'http', regionId: 'cn-shanghai' }),
      );
      (client as unknown as { _openPlatformEndpoint: string })._openPlatformEndpoint = openPlatform.endpoint;
      const response = await client.segmentCommodityAdvance(
        new imageseg.SegmentCommodityAdvanceRequest({ imageURLObject: Readable.from([photo]) }),
        new dara.RuntimeOptions({ autoretry: false, ca: oss.certificate }),
      );
      expect(response.body?.data?.imageURL).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/results\//);
      expect(openPlatform.calls.map((call) => [call.action, call.method, call.params])).toEqual([['AuthorizeFileUpload', 'GET', { Product: 'imageseg', RegionId: 'cn-shanghai' }]]);
      expect(oss.uploads).toHaveLength(1);
      expect(oss.uploads[0].overTls).toBe(true);
      // The SDK's form puts success_action_status after the file without a line break, so OSS reads it as file bytes.
      expect(oss.uploads[0].bytes.subarray(0, photo.length).equals(photo)).toBe(true);
      expect(emulator.calls.map((call) => call.params.ImageURL)).toEqual([grantedUrl(0)]);
    } finally {
      dns.lookup = systemLookup;
    }
  });
});

describe('passthrough hosts', () => {
  it('matches names without case, `*.` as any subdomain only, and a port only when the pattern names one', () => {
    const isPassthrough = passthroughMatcher(['*.oss-cn-shanghai.aliyuncs.com', '127.0.0.1', 'Images.Example.com:8443', '[::1]']);
    for (const url of [
      'https://bucket.oss-cn-shanghai.aliyuncs.com/a.png',
      'http://BUCKET.OSS-CN-SHANGHAI.ALIYUNCS.COM/a.png',
      'http://a.b.oss-cn-shanghai.aliyuncs.com:8080/a.png',
      'http://127.0.0.1/a.png',
      'http://127.0.0.1:4567/a.png',
      'https://images.example.com:8443/a.png',
      'http://[::1]:9000/a.png',
    ]) {
      expect(isPassthrough(url), url).toBe(true);
    }
    for (const url of [
      'https://oss-cn-shanghai.aliyuncs.com/a.png',
      'https://bucket.oss-cn-beijing.aliyuncs.com/a.png',
      'https://bucket.oss-cn-shanghai.aliyuncs.com.evil.test/a.png',
      'https://evil-oss-cn-shanghai.aliyuncs.com/a.png',
      'https://images.example.com/a.png',
      'http://127.0.0.2/a.png',
      'ftp://127.0.0.1/a.png',
      'not a url',
    ]) {
      expect(isPassthrough(url), url).toBe(false);
    }
  });

  it('defaults to the Shanghai OSS hosts and the public open platform', () => {
    const config = loadConfig({});
    expect(config.passthroughHosts).toEqual(['*.oss-cn-shanghai.aliyuncs.com']);
    expect(config.alibaba.openPlatformEndpoint).toBe('openplatform.aliyuncs.com');
    expect(ENVIRONMENT_HELP.map(([name]) => name)).toContain('IMAGESEG_OPENPLATFORM_ENDPOINT');
  });
});
