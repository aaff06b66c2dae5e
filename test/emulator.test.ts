/**
 * Drives the imageseg emulator with the real Alibaba SDK (`callApi`, ACS3-HMAC-SHA256) and checks
 * protocol, errors, async jobs and the pixels of the results.
 */
import { createHash } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import ImagesegModule from '@alicloud/imageseg20191230';
import { $OpenApiUtil, OpenApiUtil } from '@alicloud/openapi-core';
import { RuntimeOptions } from '@darabonba/typescript';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACTIONS, ASYNC_SUBMIT_MESSAGE, startAlibabaEmulator, type AlibabaEmulator } from './emulator/index.js';
import { bmp24 } from './support/images.js';

// The SDK is CommonJS with `exports.default = Client`. Under plain Node ESM the default import is
// `module.exports`, so the class is `.default` of it; vitest (interopDefault) already unwraps it to the class.
type ImagesegClientClass = typeof ImagesegModule.default;
const ImagesegClient: ImagesegClientClass =
  typeof ImagesegModule === 'function' ? (ImagesegModule) : ImagesegModule.default;
type Client = InstanceType<ImagesegClientClass>;

interface ApiResponse { body: any; headers: Record<string, string>; statusCode: number }
interface SdkError extends Error { name: string; code: string; statusCode: number; requestId: string; data: Record<string, unknown>; description?: string }

let emu: AlibabaEmulator;

function makeClient(overrides: { accessKeyId?: string; accessKeySecret?: string; signatureAlgorithm?: string } = {}): Client {
  return new ImagesegClient(
    new $OpenApiUtil.Config({
      accessKeyId: overrides.accessKeyId ?? emu.accessKeyId,
      accessKeySecret: overrides.accessKeySecret ?? emu.accessKeySecret,
      endpoint: emu.endpoint,
      protocol: 'http',
      regionId: 'cn-shanghai',
      ...(overrides.signatureAlgorithm ? { signatureAlgorithm: overrides.signatureAlgorithm } : {}),
    }),
  );
}

async function call(client: Client, action: string, params: Record<string, unknown>, version = '2019-12-30'): Promise<ApiResponse> {
  const res = await client.callApi(
    new $OpenApiUtil.Params({ action, version, protocol: 'HTTP', pathname: '/', method: 'POST', authType: 'AK', style: 'RPC', reqBodyType: 'formData', bodyType: 'json' }),
    new $OpenApiUtil.OpenApiRequest({ query: OpenApiUtil.query(params) }),
    new RuntimeOptions({}),
  );
  return res as ApiResponse;
}

async function callError(client: Client, action: string, params: Record<string, unknown>, version?: string): Promise<SdkError> {
  const outcome = await call(client, action, params, version).then(
    (res) => ({ ok: true as const, res }),
    (err: unknown) => ({ ok: false as const, err: err as SdkError }),
  );
  if (outcome.ok) throw new Error(`expected ${action} to fail, got ${JSON.stringify(outcome.res.body)}`);
  return outcome.err;
}

// ---------------------------------------------------------------------------------------------
// synthetic images

type Rgb = readonly [number, number, number];

function paint(w: number, h: number, colourAt: (x: number, y: number) => Rgb): Buffer {
  const out = Buffer.alloc(w * h * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const c = colourAt(x, y);
      out.set(c, (y * w + x) * 3);
    }
  }
  return out;
}

const inDisc = (x: number, y: number, cx: number, cy: number, r: number): boolean => (x + 0.5 - cx) ** 2 + (y + 0.5 - cy) ** 2 <= r * r;

function discImage(w: number, h: number, cx: number, cy: number, r: number, fg: Rgb, bg: Rgb): Buffer {
  return paint(w, h, (x, y) => (inDisc(x, y, cx, cy, r) ? fg : bg));
}

const png = (w: number, h: number, rgb: Buffer): Promise<Buffer> => sharp(rgb, { raw: { width: w, height: h, channels: 3 } }).png().toBuffer();

/** A scene: a sky gradient above a horizon at `horizon`, green ground below. */
function sceneImage(w: number, h: number, horizon: number): Buffer {
  return paint(w, h, (_x, y) => (y < horizon ? [90 + Math.round((y / horizon) * 60), 150 + Math.round((y / horizon) * 50), 235] : [40, 120, 40]));
}

async function fetchImage(url: string): Promise<{ contentType: string; channels: number; width: number; height: number; rgba: Buffer; format: string }> {
  const res = await fetch(url);
  expect(res.status, `GET ${url}`).toBe(200);
  const bytes = Buffer.from(await res.arrayBuffer());
  const meta = await sharp(bytes).metadata();
  const { data, info } = await sharp(bytes).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  return { contentType: res.headers.get('content-type') ?? '', channels: meta.channels ?? 0, width: info.width, height: info.height, rgba: data, format: meta.format ?? '' };
}

function iou(w: number, h: number, predicted: (i: number) => boolean, truth: (x: number, y: number) => boolean): number {
  let inter = 0;
  let union = 0;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const p = predicted(y * w + x);
      const t = truth(x, y);
      if (p && t) inter++;
      if (p || t) union++;
    }
  }
  return union === 0 ? 1 : inter / union;
}

const W = 200;
const H = 160;
const CIRCLE = { cx: 100, cy: 80, r: 50 };
const RED: Rgb = [220, 20, 20];
const WHITE: Rgb = [255, 255, 255];
let circleUrl: string;

beforeAll(async () => {
  emu = await startAlibabaEmulator({ jobTimings: { queuingMs: 150, processingMs: 350 } });
  circleUrl = emu.hostImage(await png(W, H, discImage(W, H, CIRCLE.cx, CIRCLE.cy, CIRCLE.r, RED, WHITE)));
});

afterAll(async () => {
  await emu?.close();
});

describe('imageseg emulator, real SDK, sync calls', () => {
  it('SegmentCommodity returns a 4-channel PNG cutout whose alpha matches the circle', async () => {
    const before = emu.calls.length;
    const res = await call(makeClient(), 'SegmentCommodity', { ImageURL: circleUrl });
    expect(res.statusCode).toBe(200);
    // callApi hands back the raw JSON body: PascalCase, exactly as Alibaba sends it
    expect(Object.keys(res.body).sort()).toEqual(['Data', 'RequestId']);
    expect(res.body.RequestId).toMatch(/^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$/);
    expect(res.headers['x-acs-request-id']).toBe(res.body.RequestId);
    expect(Object.keys(res.body.Data)).toEqual(['ImageURL']);
    expect(res.body.Data.ImageURL).toMatch(new RegExp(`^${emu.baseUrl}/results/[0-9a-f]{32}\\.png\\?Expires=\\d+&OSSAccessKeyId=[^&]+&Signature=`));

    const out = await fetchImage(res.body.Data.ImageURL);
    expect(out.contentType).toBe('image/png');
    expect(out.channels).toBe(4);
    expect([out.width, out.height]).toEqual([W, H]);
    const score = iou(W, H, (i) => out.rgba[i * 4 + 3] >= 128, (x, y) => inDisc(x, y, CIRCLE.cx, CIRCLE.cy, CIRCLE.r));
    expect(score).toBeGreaterThan(0.9);
    const centre = (CIRCLE.cy * W + CIRCLE.cx) * 4;
    expect([...out.rgba.subarray(centre, centre + 4)]).toEqual([...RED, 255]);

    expect(emu.calls.length).toBe(before + 1);
    expect(emu.calls.at(-1)).toMatchObject({ action: 'SegmentCommodity', params: { ImageURL: circleUrl } });
  });

  it('honours ReturnForm: mask is a single-channel PNG, whiteBK puts the subject on white', async () => {
    const client = makeClient();
    const mask = await fetchImage((await call(client, 'SegmentCommodity', { ImageURL: circleUrl, ReturnForm: 'mask' })).body.Data.ImageURL);
    expect(mask.channels).toBe(1);
    expect(iou(W, H, (i) => mask.rgba[i * 4] >= 128, (x, y) => inDisc(x, y, CIRCLE.cx, CIRCLE.cy, CIRCLE.r))).toBeGreaterThan(0.9);

    const white = await fetchImage((await call(client, 'SegmentCommonImage', { ImageURL: circleUrl, ReturnForm: 'whiteBK' })).body.Data.ImageURL);
    expect(white.channels).toBe(3);
    expect([...white.rgba.subarray(0, 3)]).toEqual([...WHITE]);

    const crop = await fetchImage((await call(client, 'SegmentBody', { ImageURL: circleUrl, ReturnForm: 'crop' })).body.Data.ImageURL);
    expect(crop.channels).toBe(4);
    expect(crop.width).toBeGreaterThanOrEqual(2 * CIRCLE.r - 2);
    expect(crop.width).toBeLessThanOrEqual(2 * CIRCLE.r + 4);
  });

  it('decodes BMP input (which sharp cannot) and JPEG input', async () => {
    const rgb = discImage(W, H, CIRCLE.cx, CIRCLE.cy, CIRCLE.r, RED, WHITE);
    const client = makeClient();
    for (const bytes of [bmp24(W, H, rgb), await sharp(rgb, { raw: { width: W, height: H, channels: 3 } }).jpeg({ quality: 95 }).toBuffer()]) {
      const out = await fetchImage((await call(client, 'SegmentCommonImage', { ImageURL: emu.hostImage(bytes) })).body.Data.ImageURL);
      expect(iou(W, H, (i) => out.rgba[i * 4 + 3] >= 128, (x, y) => inDisc(x, y, CIRCLE.cx, CIRCLE.cy, CIRCLE.r))).toBeGreaterThan(0.9);
    }
  });

  it('SegmentHead returns one element per subject with its box', async () => {
    const two = paint(300, 200, (x, y) => (inDisc(x, y, 70, 100, 40) || inDisc(x, y, 220, 90, 50) ? [200, 150, 120] : [20, 30, 200]));
    const res = await call(makeClient(), 'SegmentHead', { ImageURL: emu.hostImage(await png(300, 200, two)) });
    const elements = res.body.Data.Elements as Array<{ ImageURL: string; X: number; Y: number; Width: number; Height: number }>;
    expect(elements).toHaveLength(2);
    const big = elements[0];
    expect(Object.keys(big).sort()).toEqual(['Height', 'ImageURL', 'Width', 'X', 'Y']);
    expect(Math.abs(big.X - 170)).toBeLessThanOrEqual(1);
    expect(Math.abs(big.Y - 40)).toBeLessThanOrEqual(1);
    expect(Math.abs(big.Width - 100)).toBeLessThanOrEqual(1);
    const img = await fetchImage(big.ImageURL);
    expect([img.width, img.height]).toEqual([big.Width, big.Height]);
  });

  it('RefineMask aligns a coarse mask with the image', async () => {
    const coarseRgb = paint(W, H, (x, y) => (inDisc(x, y, CIRCLE.cx + 4, CIRCLE.cy - 3, CIRCLE.r + 4) ? WHITE : [0, 0, 0]));
    const truth = (x: number, y: number): boolean => inDisc(x, y, CIRCLE.cx, CIRCLE.cy, CIRCLE.r);
    const coarseIou = iou(W, H, (i) => coarseRgb[i * 3] >= 128, truth);
    const res = await call(makeClient(), 'RefineMask', { ImageURL: circleUrl, MaskImageURL: emu.hostImage(await png(W, H, coarseRgb)) });
    const refined = await fetchImage(res.body.Data.Elements[0].ImageURL);
    expect(refined.channels).toBe(1);
    const refinedIou = iou(W, H, (i) => refined.rgba[i * 4] >= 128, truth);
    expect(refinedIou).toBeGreaterThan(coarseIou);
    expect(refinedIou).toBeGreaterThan(0.95);
  });

  it('ChangeSky paints the replacement into the sky and keeps the ground', async () => {
    const scene = emu.hostImage(await png(240, 180, sceneImage(240, 180, 100)));
    const sunset = emu.hostImage(await png(120, 90, paint(120, 90, () => [250, 120, 40])));
    const res = await call(makeClient(), 'ChangeSky', { ImageURL: scene, ReplaceImageURL: sunset });
    const out = await fetchImage(res.body.Data.ImageURL);
    expect(out.contentType).toBe('image/jpeg');
    const px = (x: number, y: number): number[] => [...out.rgba.subarray((y * 240 + x) * 4, (y * 240 + x) * 4 + 3)];
    const near = (a: number[], b: readonly number[]): boolean => a.every((v, i) => Math.abs(v - b[i]) < 12);
    expect(near(px(120, 30), [250, 120, 40])).toBe(true);
    expect(near(px(120, 150), [40, 120, 40])).toBe(true);

    const sky = await fetchImage((await call(makeClient(), 'SegmentHDSky', { ImageURL: scene })).body.Data.ImageURL);
    expect(iou(240, 180, (i) => sky.rgba[i * 4] >= 128, (_x, y) => y < 100)).toBeGreaterThan(0.95);
  });

  it('every Action answers with the Data fields of the reference', async () => {
    const client = makeClient();
    const face = emu.hostImage(await png(240, 240, discImage(240, 240, 120, 120, 80, [224, 172, 140], [30, 60, 160])));
    const scene = emu.hostImage(await png(240, 180, sceneImage(240, 180, 100)));
    const imageFor: Record<string, Record<string, string>> = {
      SegmentSkin: { URL: face },
      SegmentHDCommonImage: { ImageUrl: circleUrl },
      RefineMask: { ImageURL: circleUrl, MaskImageURL: circleUrl },
      ChangeSky: { ImageURL: scene, ReplaceImageURL: circleUrl },
      SegmentSky: { ImageURL: scene },
      SegmentHDSky: { ImageURL: scene },
      SegmentScene: { ImageURL: scene },
      ParseFace: { ImageURL: face },
    };
    for (const spec of ACTIONS.values()) {
      if (spec.action === 'GetAsyncJobResult' || spec.async === 'always') continue;
      const params = imageFor[spec.action] ?? { ImageURL: circleUrl };
      const res = await call(client, spec.action, params);
      expect(res.statusCode, spec.action).toBe(200);
      const data = res.body.Data as Record<string, unknown>;
      for (const key of Object.keys(data)) expect(spec.dataFields, `${spec.action} Data.${key}`).toContain(key);
      const urls = JSON.stringify(data).match(/http:\/\/127\.0\.0\.1:\d+\/results\/[^"]+/g) ?? [];
      expect(urls.length, spec.action).toBeGreaterThan(0);
      for (const url of urls.slice(0, 3)) {
        const img = await fetchImage(url);
        expect(img.contentType, `${spec.action} ${url}`).toMatch(/^image\/(png|jpeg)$/);
      }
    }
    const parse = await call(client, 'ParseFace', { ImageURL: face });
    expect(parse.body.Data.OriginImageURL).toBe(face);
    expect((parse.body.Data.Elements as Array<{ Name: string }>).map((e) => e.Name).sort()).toEqual(
      ['l_brow', 'l_eye', 'l_lip', 'nose', 'r_brow', 'r_eye', 'skin', 'u_lip'].sort(),
    );
    const skin = await fetchImage((await call(client, 'SegmentSkin', { URL: face })).body.Data.URL);
    expect(iou(240, 240, (i) => skin.rgba[i * 4] >= 128, (x, y) => inDisc(x, y, 120, 120, 80))).toBeGreaterThan(0.95);
  });

  it('SegmentCloth takes ClothClass as a repeat list (ClothClass.1, ClothClass.2)', async () => {
    const client = makeClient();
    const res = await call(client, 'SegmentCloth', { ImageURL: circleUrl, ClothClass: ['tops', 'pants'] });
    expect(emu.calls.at(-1)!.params).toEqual({ ImageURL: circleUrl, 'ClothClass.1': 'tops', 'ClothClass.2': 'pants' });
    const elements = res.body.Data.Elements as Array<Record<string, any>>;
    expect(elements).toHaveLength(2);
    expect(Object.keys(elements[1].ClassUrl).sort()).toEqual(['pants', 'tops']);
    const tops = await fetchImage(elements[1].ClassUrl.tops);
    expect(tops.rgba[(40 * W + 100) * 4 + 3]).toBe(255); // upper half of the subject
    expect(tops.rgba[(120 * W + 100) * 4 + 3]).toBe(0);
    expect((await callError(client, 'SegmentCloth', { ImageURL: circleUrl, ClothClass: ['socks'] })).code).toBe('InvalidParameter');
  });

  it('also verifies RPC v1 (HMAC-SHA1) signatures, Config.signatureAlgorithm = "v2"', async () => {
    const res = await call(makeClient({ signatureAlgorithm: 'v2' }), 'SegmentCommodity', { ImageURL: circleUrl });
    expect(res.statusCode).toBe(200);
    expect(res.body.Data.ImageURL).toContain('/results/');
    expect(emu.calls.at(-1)).toEqual({ action: 'SegmentCommodity', params: { ImageURL: circleUrl }, at: expect.any(Number), ms: expect.any(Number) });
    const bad = await callError(makeClient({ signatureAlgorithm: 'v2', accessKeySecret: 'nope' }), 'SegmentCommodity', { ImageURL: circleUrl });
    expect(bad.code).toBe('SignatureDoesNotMatch');
  });
});

describe('imageseg emulator, errors', () => {
  it('a wrong secret surfaces as SDK ClientError SignatureDoesNotMatch (400) and is not recorded', async () => {
    const before = emu.calls.length;
    const err = await callError(makeClient({ accessKeySecret: 'wrong-secret' }), 'SegmentCommodity', { ImageURL: circleUrl });
    expect(err.name).toBe('ClientError');
    expect(err.code).toBe('SignatureDoesNotMatch');
    expect(err.statusCode).toBe(400);
    expect(err.message).toMatch(/^SignatureDoesNotMatch: code: 400, Specified signature does not match our calculation\..* request id: [0-9A-F-]{36}$/s);
    expect(Object.keys(err.data).sort()).toEqual(['Code', 'HostId', 'Message', 'Recommend', 'RequestId']);
    expect(err.data.Code).toBe('SignatureDoesNotMatch');
    expect(err.data.HostId).toBe('imageseg.cn-shanghai.aliyuncs.com');
    expect(err.requestId).toBe(err.data.RequestId);
    expect(emu.calls.length).toBe(before);
  });

  it('an unknown AccessKeyId is InvalidAccessKeyId.NotFound (404)', async () => {
    const err = await callError(makeClient({ accessKeyId: 'LTAI-unknown' }), 'SegmentCommodity', { ImageURL: circleUrl });
    expect([err.code, err.statusCode]).toEqual(['InvalidAccessKeyId.NotFound', 404]);
  });

  it('a missing required parameter is Missing<Name> (400)', async () => {
    const client = makeClient();
    const err = await callError(client, 'SegmentCommodity', {});
    expect([err.code, err.statusCode, err.data.Message]).toEqual(['MissingImageURL', 400, 'ImageURL is mandatory for this action.']);
    expect((await callError(client, 'SegmentSkin', { ImageURL: circleUrl })).code).toBe('MissingURL');
    expect((await callError(client, 'RefineMask', { ImageURL: circleUrl })).code).toBe('MissingMaskImageURL');
    expect((await callError(client, 'GetAsyncJobResult', {})).code).toBe('MissingJobId');
    expect((await callError(client, 'SegmentBody', { ImageURL: circleUrl, Async: 'maybe' })).code).toBe('InvalidParameter');
  });

  it('unknown Action is InvalidAction.NotFound (404); another Version is InvalidVersion', async () => {
    const client = makeClient();
    expect(await callError(client, 'SegmentEverything', { ImageURL: circleUrl })).toMatchObject({ code: 'InvalidAction.NotFound', statusCode: 404 });
    expect(await callError(client, 'SegmentCommodity', { ImageURL: circleUrl }, '2019-09-30')).toMatchObject({ code: 'InvalidVersion', statusCode: 400 });
  });

  it('image problems use the reference codes', async () => {
    const client = makeClient();
    const missing = await callError(client, 'SegmentCommodity', { ImageURL: `${emu.baseUrl}/hosted/doesnotexist.png` });
    expect([missing.code, missing.statusCode]).toEqual(['InvalidImage.Download', 400]);
    expect((await callError(client, 'SegmentCommodity', { ImageURL: 'ftp://example.com/a.png' })).code).toBe('InvalidImage.URL');
    const gif = await sharp({ create: { width: 64, height: 64, channels: 3, background: '#fff' } }).gif().toBuffer();
    expect((await callError(client, 'SegmentCommodity', { ImageURL: emu.hostImage(gif) })).code).toBe('InvalidImage.Content');
    expect((await callError(client, 'SegmentCommodity', { ImageURL: emu.hostImage(Buffer.from('not an image')) })).code).toBe('InvalidImage.Content');
    const huge = await sharp({ create: { width: 1300, height: 100, channels: 3, background: '#fff' } }).png().toBuffer();
    expect((await callError(client, 'SegmentCommodity', { ImageURL: emu.hostImage(huge) })).code).toBe('InvalidImage.Resolution');
  });

  it('injected Throttling.User surfaces as SDK ThrottlingError; InternalError (500) as ServerError', async () => {
    const client = makeClient();
    emu.injectFault({ action: 'SegmentCommodity', code: 'Throttling.User', httpStatus: 400, times: 2 });
    for (let i = 0; i < 2; i++) {
      const err = await callError(client, 'SegmentCommodity', { ImageURL: circleUrl });
      expect([err.name, err.code, err.statusCode, err.data.Message]).toEqual(['ThrottlingError', 'Throttling.User', 400, 'Request was denied due to user flow control.']);
    }
    expect((await call(client, 'SegmentCommodity', { ImageURL: circleUrl })).statusCode).toBe(200);

    emu.injectFault({ code: 'InternalError', httpStatus: 500, message: 'boom' });
    const err = await callError(client, 'SegmentFood', { ImageURL: circleUrl });
    expect([err.name, err.code, err.statusCode, err.data.Message]).toEqual(['ServerError', 'InternalError', 500, 'boom']);
  });

  it('delayNext holds the answer of the next call of that Action', async () => {
    emu.delayNext('SegmentLogo', 400);
    const client = makeClient();
    const t0 = Date.now();
    await call(client, 'SegmentLogo', { ImageURL: circleUrl });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(390);
    const t1 = Date.now();
    await call(client, 'SegmentLogo', { ImageURL: circleUrl });
    expect(Date.now() - t1).toBeLessThan(390);
  });

  it('a replayed request is SignatureNonceUsed; a tampered one SignatureDoesNotMatch', async () => {
    // Sign with the SDK's own signer, send with node:http, twice.
    const query = { ImageURL: circleUrl };
    const headers: Record<string, string> = {
      host: emu.endpoint,
      'x-acs-version': '2019-12-30',
      'x-acs-action': 'SegmentCommodity',
      'x-acs-date': new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
      'x-acs-signature-nonce': createHash('sha256').update(String(Math.random())).digest('hex'),
      'x-acs-content-sha256': createHash('sha256').update('').digest('hex'),
      accept: 'application/json',
    };
    headers.Authorization = OpenApiUtil.getAuthorization(
      { method: 'POST', pathname: '/', query, headers } as never,
      'ACS3-HMAC-SHA256',
      headers['x-acs-content-sha256'],
      emu.accessKeyId,
      emu.accessKeySecret,
    );
    const send = (qs: string): Promise<{ status: number; body: any }> =>
      new Promise((resolve, reject) => {
        const req = httpRequest(`${emu.baseUrl}/?${qs}`, { method: 'POST', headers }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) }));
        });
        req.on('error', reject);
        req.end();
      });
    const qs = new URLSearchParams(query).toString();
    expect((await send(qs)).status).toBe(200);
    const replay = await send(qs);
    expect([replay.status, replay.body.Code]).toEqual([400, 'SignatureNonceUsed']);
    const tampered = await send(new URLSearchParams({ ImageURL: `${circleUrl}?x=1` }).toString());
    expect([tampered.status, tampered.body.Code]).toEqual([400, 'SignatureDoesNotMatch']);

    // a correctly signed request whose x-acs-date is 20 minutes old
    headers['x-acs-date'] = new Date(Date.now() - 20 * 60 * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    headers['x-acs-signature-nonce'] = createHash('sha256').update(String(Math.random())).digest('hex');
    delete headers.Authorization;
    headers.Authorization = OpenApiUtil.getAuthorization(
      { method: 'POST', pathname: '/', query, headers } as never,
      'ACS3-HMAC-SHA256',
      headers['x-acs-content-sha256'],
      emu.accessKeyId,
      emu.accessKeySecret,
    );
    const stale = await send(qs);
    expect([stale.status, stale.body.Code]).toEqual([400, 'InvalidTimeStamp.Expired']);
  });

  it('result links are signed: a tampered link is 403', async () => {
    const res = await call(makeClient(), 'SegmentCommodity', { ImageURL: circleUrl });
    const url = new URL(res.body.Data.ImageURL as string);
    url.searchParams.set('Expires', String(Number(url.searchParams.get('Expires')) + 3600));
    const denied = await fetch(url);
    expect(denied.status).toBe(403);
    expect(await denied.text()).toContain('<Code>SignatureDoesNotMatch</Code>');
  });
});

describe('imageseg emulator, async jobs', () => {
  async function poll(client: Client, jobId: string): Promise<{ statuses: string[]; data: Record<string, any> }> {
    const statuses: string[] = [];
    for (let i = 0; i < 100; i++) {
      const res = await call(client, 'GetAsyncJobResult', { JobId: jobId });
      const data = res.body.Data as Record<string, any>;
      if (statuses.at(-1) !== data.Status) statuses.push(data.Status);
      if (data.Status === 'PROCESS_SUCCESS' || data.Status === 'PROCESS_FAILED') return { statuses, data };
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`job ${jobId} did not finish`);
  }

  it('SegmentHDCommonImage is always async: RequestId is the JobId, Result is the Data JSON', async () => {
    const client = makeClient();
    const submitted = Date.now();
    const submit = await call(client, 'SegmentHDCommonImage', { ImageUrl: circleUrl });
    expect(submit.body).toEqual({ RequestId: expect.any(String), Message: ASYNC_SUBMIT_MESSAGE });
    const jobId = submit.body.RequestId as string;
    expect(emu.jobCompletedAt(jobId)).toBeUndefined();

    const { statuses, data } = await poll(client, jobId);
    expect(statuses).toEqual(['QUEUING', 'PROCESSING', 'PROCESS_SUCCESS']);
    expect(Object.keys(data).sort()).toEqual(['JobId', 'Result', 'Status']);
    expect(data.JobId).toBe(jobId);
    const result = JSON.parse(data.Result as string) as { ImageUrl: string };
    expect(Object.keys(result)).toEqual(['ImageUrl']);
    const out = await fetchImage(result.ImageUrl);
    expect(iou(W, H, (i) => out.rgba[i * 4 + 3] >= 128, (x, y) => inDisc(x, y, CIRCLE.cx, CIRCLE.cy, CIRCLE.r))).toBeGreaterThan(0.9);
    expect(emu.jobCompletedAt(jobId)! - submitted).toBeGreaterThanOrEqual(150 + 350 - 5);
  });

  it('SegmentBody with Async=true runs as a job', async () => {
    const client = makeClient();
    const submit = await call(client, 'SegmentBody', { ImageURL: circleUrl, Async: true });
    expect(submit.body.Data).toBeUndefined();
    const { data } = await poll(client, submit.body.RequestId);
    expect(Object.keys(JSON.parse(data.Result))).toEqual(['ImageURL']);
    // Async=false (or an Action without Async) answers synchronously
    expect((await call(client, 'SegmentBody', { ImageURL: circleUrl, Async: false })).body.Data.ImageURL).toBeDefined();
  });

  it('failNextJob and failing inputs end PROCESS_FAILED with ErrorCode / ErrorMessage', async () => {
    const client = makeClient();
    emu.failNextJob('InvalidImage.Content', 'forced failure');
    const first = await call(client, 'SegmentHDCommonImage', { ImageUrl: circleUrl });
    const failed = await poll(client, first.body.RequestId);
    expect(failed.data).toEqual({ JobId: first.body.RequestId, Status: 'PROCESS_FAILED', ErrorCode: 'InvalidImage.Content', ErrorMessage: 'forced failure' });
    expect(emu.jobCompletedAt(first.body.RequestId)).toBeTypeOf('number');

    const broken = await call(client, 'SegmentHDCommonImage', { ImageUrl: `${emu.baseUrl}/hosted/missing.png` });
    expect((await poll(client, broken.body.RequestId)).data.ErrorCode).toBe('InvalidImage.Download');
  });

  it('an unknown JobId is an error', async () => {
    const err = await callError(makeClient(), 'GetAsyncJobResult', { JobId: '00000000-0000-0000-0000-000000000000' });
    expect([err.name, err.code, err.statusCode]).toEqual(['ClientError', 'InvalidParameter.BadRequest', 400]);
  });
});
