import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { startAilabtoolsEmulator, type AilabtoolsEmulator } from './peer-emulators/ailabtools.js';
import { startAidgeEmulator, type AidgeEmulator } from './peer-emulators/aidge.js';
import { peerEnvironment, startTestServer, type TestServer } from './support/server.js';
import { discIoU, discOnWhite } from './support/images.js';

let ailabtools: AilabtoolsEmulator;
let aidge: AidgeEmulator;
const servers: Record<'ailabtools' | 'aidge', TestServer> = {} as never;
const clients: Record<'ailabtools' | 'aidge', Client> = {} as never;
let disc: Buffer;
let discUrl: string;

type Body = { data: { Action: string; ImageURL: string; Provider: string }; error?: { code: string; retryable: boolean; message: string; details: Record<string, unknown> } };

beforeAll(async () => {
  [ailabtools, aidge] = await Promise.all([startAilabtoolsEmulator(), startAidgeEmulator()]);
  const environment = peerEnvironment({ ailabtools, aidge });
  for (const name of ['ailabtools', 'aidge'] as const) {
    servers[name] = await startTestServer({ ...environment, IMAGESEG_PROVIDERS: name });
    clients[name] = new Client({ name: 'imageseg-test', version: '1.0.0' });
    await clients[name].connect(new StreamableHTTPClientTransport(new URL(`${servers[name].url}/mcp`)));
  }
  disc = await discOnWhite();
  discUrl = `data:image/png;base64,${disc.toString('base64')}`;
});

afterAll(async () => {
  for (const client of Object.values(clients)) await client?.close();
  for (const server of Object.values(servers)) await server?.close();
  await ailabtools?.close();
  await aidge?.close();
});

beforeEach(() => {
  ailabtools.calls.length = 0;
  aidge.calls.length = 0;
  ailabtools.clearFaults();
  aidge.clearFaults();
});

async function rest(provider: 'ailabtools' | 'aidge', args: Record<string, unknown>, tool = 'product-background-removal', server = servers[provider]) {
  const response = await fetch(`${server.url}/api/tools/${tool}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(args) });
  return { status: response.status, headers: response.headers, body: (await response.json()) as Body };
}

async function fetchImage(url: string): Promise<Buffer> {
  const response = await fetch(url);
  expect(response.status).toBe(200);
  return Buffer.from(await response.arrayBuffer());
}

/** The subject as a mask: the alpha of a cutout, the grey levels of a mask, or "not white" on a white background. */
async function subjectMask(bytes: Buffer, kind: 'alpha' | 'grey' | 'onWhite') {
  const image = sharp(bytes);
  const { width, height, channels } = await image.metadata();
  let mask: Uint8Array;
  if (kind === 'alpha') mask = new Uint8Array(await image.ensureAlpha().extractChannel(3).raw().toBuffer());
  else if (kind === 'grey') mask = new Uint8Array(await image.extractChannel(0).raw().toBuffer());
  else mask = new Uint8Array(await image.removeAlpha().extractChannel(1).raw().toBuffer()).map((green) => (green < 128 ? 255 : 0));
  return { width: width, height: height, channels: channels, iou: discIoU(mask, width, height) };
}

describe.each(['ailabtools', 'aidge'] as const)('the %s provider end to end', (provider) => {
  const providerCalls = () => (provider === 'ailabtools' ? ailabtools.calls.length : aidge.calls.length);

  it('serves product background removal over REST: the cutout decodes and matches the scene, data.Provider names it', async () => {
    const { status, body } = await rest(provider, { ImageURL: discUrl });
    expect(status).toBe(200);
    expect(body.data).toMatchObject({ Action: 'SegmentCommodity', Provider: provider });
    const cutout = await subjectMask(await fetchImage(body.data.ImageURL), 'alpha');
    expect(cutout).toMatchObject({ width: 320, height: 240, channels: 4 });
    expect(cutout.iou).toBeGreaterThan(0.95);
    expect(providerCalls()).toBe(1);
  });

  it('serves general segmentation over MCP with the image inline', async () => {
    const result = (await clients[provider].callTool({ name: 'general_segmentation', arguments: { ImageURL: discUrl } })) as CallToolResult;
    expect(result.isError).toBeFalsy();
    expect((result.structuredContent as Body).data).toMatchObject({ Action: 'SegmentCommonImage', Provider: provider });
    const image = result.content.find((item) => item.type === 'image') as { data: string; mimeType: string };
    expect(image.mimeType).toBe('image/png');
    expect((await subjectMask(Buffer.from(image.data, 'base64'), 'alpha')).iou).toBeGreaterThan(0.95);
  });

  it('answers ReturnForm "mask" with a single-channel mask of the subject', async () => {
    const { body } = await rest(provider, { ImageURL: discUrl, ReturnForm: 'mask', deliver: 'stored' });
    const mask = await subjectMask(await fetchImage(body.data.ImageURL), 'grey');
    expect(mask.channels).toBe(1);
    expect(mask.iou).toBeGreaterThan(0.95);
  });

  it('answers ReturnForm "whiteBK" with the subject on white', async () => {
    const { body } = await rest(provider, { ImageURL: discUrl, ReturnForm: 'whiteBK' });
    const bytes = await fetchImage(body.data.ImageURL);
    const { data } = await sharp(bytes).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    expect([...data.subarray(0, 3)].every((value) => value > 245)).toBe(true);
    expect((await subjectMask(bytes, 'onWhite')).iou).toBeGreaterThan(0.95);
  });

  it('lists the tools it serves and leaves the others to Alibaba', async () => {
    const { tools } = await clients[provider].listTools();
    const available = (name: string) => (tools.find((tool) => tool.name === name)!._meta as { available: boolean }).available;
    expect(available('product_background_removal')).toBe(true);
    expect(available('general_segmentation')).toBe(true);
    // A tool no configured provider serves is left out of tools/list (IMAGESEG_LIST_ALL_TOOLS=1 lists it).
    expect(tools.map((tool) => tool.name)).not.toContain('sky_segmentation');
    const sky = await rest(provider, { ImageURL: discUrl }, 'sky-segmentation');
    expect(sky.status).toBe(503);
    expect(sky.body.error!.code).toBe('PROVIDER_NOT_CONFIGURED');
    expect(providerCalls()).toBe(0);
  });
});

describe('ailabtools option and error mapping', () => {
  it('sends return_form mask / whiteBK as given and leaves it out, never empty, when ReturnForm is unset', async () => {
    await rest('ailabtools', { ImageURL: discUrl });
    await rest('ailabtools', { ImageURL: discUrl, ReturnForm: 'mask' });
    await rest('ailabtools', { ImageURL: discUrl, ReturnForm: 'whiteBK' });
    expect(ailabtools.calls.map((call) => call.returnForm)).toEqual([undefined, 'mask', 'whiteBK']);
    expect(ailabtools.calls[0].fields).toEqual(['image']);
    expect(ailabtools.calls[0].imageBytes).toBe(disc.length);
  });

  it('maps its invalid-input answer (16-bit PNG, 415) to IMAGE_INVALID naming the problem', async () => {
    const deep = await sharp(disc).toColourspace('rgb16').png().toBuffer();
    const { status, body } = await rest('ailabtools', { ImageURL: deep.toString('base64') });
    expect(status).toBe(422);
    expect(body.error).toMatchObject({ code: 'IMAGE_INVALID', retryable: false, details: { provider: 'ailabtools', httpStatus: 415, charged: false } });
    expect(body.error!.message).toMatch(/16-bit/);
  });

  it('does not send an image ailabtools does not take (WEBP): IMAGE_INVALID before any call', async () => {
    const webp = await sharp(disc).webp().toBuffer();
    const { status, body } = await rest('ailabtools', { ImageURL: webp.toString('base64') });
    expect(status).toBe(422);
    expect(body.error!.message).toMatch(/ailabtools accepts jpeg, png, bmp, not webp/);
    expect(ailabtools.calls).toHaveLength(0);
  });

  it('maps 429 to UPSTREAM_THROTTLED with Retry-After, 503 to UPSTREAM_ERROR', async () => {
    ailabtools.injectFault({ status: 429 });
    const throttled = await rest('ailabtools', { ImageURL: discUrl });
    expect(throttled.status).toBe(429);
    expect(throttled.headers.get('retry-after')).toBe('1');
    expect(throttled.body.error).toMatchObject({ code: 'UPSTREAM_THROTTLED', retryable: true, details: { providerCode: 'ERROR_RATE_LIMIT' } });
    ailabtools.injectFault({ status: 503 });
    const down = await rest('ailabtools', { ImageURL: discUrl });
    expect(down.status).toBe(502);
    expect(down.body.error).toMatchObject({ code: 'UPSTREAM_ERROR', retryable: true });
  });

  it('sends its key in x-api-market-key: a wrong key is PROVIDER_NOT_CONFIGURED', async () => {
    const wrong = await startTestServer({ ...peerEnvironment({ ailabtools: { ...ailabtools, apiKey: 'not-the-key' } }), IMAGESEG_PROVIDERS: 'ailabtools' });
    try {
      const { status, body } = await rest('ailabtools', { ImageURL: discUrl }, 'product-background-removal', wrong);
      expect(status).toBe(503);
      expect(body.error).toMatchObject({ code: 'PROVIDER_NOT_CONFIGURED', details: { provider: 'ailabtools', httpStatus: 403 } });
      expect(ailabtools.calls).toHaveLength(0);
    } finally {
      await wrong.close();
    }
  });
});

describe('Aidge option and error mapping', () => {
  it('maps ReturnForm unset / mask / whiteBK to backGroundType TRANSPARENT / TRANSPARENT / WHITE_BACKGROUND, signed, image as base64', async () => {
    await rest('aidge', { ImageURL: discUrl });
    await rest('aidge', { ImageURL: discUrl, ReturnForm: 'mask' });
    await rest('aidge', { ImageURL: discUrl, ReturnForm: 'whiteBK' });
    expect(aidge.calls.map((call) => call.params.backGroundType)).toEqual(['TRANSPARENT', 'TRANSPARENT', 'WHITE_BACKGROUND']);
    const [first] = aidge.calls;
    expect(first.params).toMatchObject({ app_key: aidge.appKey, sign_method: 'sha256', imageBase64: `<${disc.toString('base64').length} chars>` });
    expect(first.params.timestamp).toMatch(/^\d{13}$/);
    expect(first.params.sign).toMatch(/^[0-9A-F]{64}$/);
    // Its targetWidth/targetHeight crop and rescale; our width/height options are applied after any provider instead.
    expect(first.params).not.toHaveProperty('targetWidth');
  });

  it('applies our width/height after Aidge, the same as for every provider', async () => {
    const { body } = await rest('aidge', { ImageURL: discUrl, width: 160, height: 160, deliver: 'stored' });
    const fitted = await fetchImage(body.data.ImageURL);
    const { width, height } = await sharp(fitted).metadata();
    expect([width, height]).toEqual([160, 160]);
    // 320x240 fitted into 160x160: the scene scaled to 160x120, letterboxed with transparency (20 rows above).
    const letterbox = await sharp(fitted).extract({ left: 0, top: 0, width: 160, height: 20 }).extractChannel(3).raw().toBuffer();
    expect(Math.max(...letterbox)).toBe(0);
    expect(aidge.calls[0].params).not.toHaveProperty('targetHeight');
  });

  it('maps 700 to IMAGE_INVALID, 1000-1002 to CONTENT_REJECTED (not retryable), 501 to UPSTREAM_THROTTLED, 801 to UPSTREAM_ERROR', async () => {
    const cases: Array<[number, number, string, boolean]> = [
      [700, 422, 'IMAGE_INVALID', false],
      [1000, 422, 'CONTENT_REJECTED', false],
      [1001, 422, 'CONTENT_REJECTED', false],
      [1002, 422, 'CONTENT_REJECTED', false],
      [501, 429, 'UPSTREAM_THROTTLED', true],
      [801, 502, 'UPSTREAM_ERROR', true],
    ];
    for (const [resCode, status, code, retryable] of cases) {
      aidge.injectFault({ resCode });
      const answer = await rest('aidge', { ImageURL: discUrl });
      expect(answer.status, String(resCode)).toBe(status);
      expect(answer.body.error, String(resCode)).toMatchObject({ code, retryable, details: { provider: 'aidge', providerCode: String(resCode), charged: false } });
    }
  });

  it('is refused by the gateway when the signature is wrong: PROVIDER_NOT_CONFIGURED, nothing processed', async () => {
    const wrong = await startTestServer({ ...peerEnvironment({ aidge: { ...aidge, appSecret: 'not-the-secret' } }), IMAGESEG_PROVIDERS: 'aidge' });
    try {
      const { status, body } = await rest('aidge', { ImageURL: discUrl }, 'product-background-removal', wrong);
      expect(status).toBe(503);
      expect(body.error).toMatchObject({ code: 'PROVIDER_NOT_CONFIGURED', details: { provider: 'aidge', providerCode: 'IncompleteSignature' } });
      expect(aidge.calls).toHaveLength(0);
    } finally {
      await wrong.close();
    }
  });

  it('does not send an image under its 100x100 minimum', async () => {
    const small = await discOnWhite(90, 90);
    const { status, body } = await rest('aidge', { ImageURL: small.toString('base64') });
    expect(status).toBe(422);
    expect(body.error!.message).toMatch(/aidge needs at least 100x100 pixels/);
    expect(aidge.calls).toHaveLength(0);
  });
});
