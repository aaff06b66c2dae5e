import https from 'node:https';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AlibabaEmulator, OssEmulator } from './emulator/index.js';
import type { TestServer } from './support/server.js';
import { decodeAlpha, iou, texturedDisc } from './support/images.js';
import { createLogger } from '../src/logger.js';
import { createAlibabaProvider } from '../src/providers/alibaba/index.js';
import { startUploadStack, type UploadStack } from './support/upload-stack.js';

let emulator: AlibabaEmulator;
let oss: OssEmulator;
let server: TestServer;
let stack: UploadStack;
let ossAgent: https.Agent;

beforeAll(async () => {
  stack = await startUploadStack();
  ({ emulator, oss, server } = stack);
  // The one thing a test adds to the production wiring (as in upload.test.ts): an agent that trusts the OSS emulator.
  ossAgent = oss.createAgent();
  const provider = createAlibabaProvider(server.context.config, createLogger('silent'), { ossAgent });
  server.context.providers.select = () => provider;
});

afterAll(async () => {
  ossAgent?.destroy();
  await stack?.close();
});

describe('any image size, with the Alibaba provider', () => {
  it('fits a 2000x1500 photo to SegmentCommodity\'s 1280 px, sends the copy, and returns a 2000x1500 cutout of the original', async () => {
    const scene = await texturedDisc(2000, 1500);
    const response = await fetch(`${server.url}/api/tools/product-background-removal`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ImageURL: emulator.hostImage(scene.png, 'image/png'), deliver: 'stored' }),
    });
    const body = (await response.json()) as { content: string; data: { ImageURL: string }; error?: unknown };
    expect(response.status, JSON.stringify(body)).toBe(200);
    expect(body.content).toContain('ImageURL was 2000x1500');
    expect(body.content).toContain('sent as 1279x959');
    // Alibaba saw the fitted copy, uploaded, not the original's URL.
    const sent = await sharp(oss.uploads.at(-1)!.bytes).metadata();
    expect([sent.width, sent.height]).toEqual([1279, 959]);
    expect(emulator.calls.find((call) => call.action === 'SegmentCommodity')!.params.ImageURL).not.toContain(emulator.baseUrl);
    const result = await fetch(body.data.ImageURL);
    expect(result.status).toBe(200);
    const cutout = await decodeAlpha(Buffer.from(await result.arrayBuffer()));
    expect([cutout.width, cutout.height, cutout.channels]).toEqual([2000, 1500, 4]);
    expect(iou(cutout.alpha, scene.truth)).toBeGreaterThanOrEqual(0.9);
  }, 60_000);

  it('scales a mask back too (ReturnForm=mask)', async () => {
    const scene = await texturedDisc(1600, 1600);
    const response = await fetch(`${server.url}/api/tools/product-background-removal`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ImageURL: emulator.hostImage(scene.png, 'image/png'), ReturnForm: 'mask', deliver: 'stored' }),
    });
    const body = (await response.json()) as { data: { ImageURL: string } };
    expect(response.status, JSON.stringify(body)).toBe(200);
    const mask = Buffer.from(await (await fetch(body.data.ImageURL)).arrayBuffer());
    const { data, info } = await sharp(mask).extractChannel(0).raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height]).toEqual([1600, 1600]);
    expect(iou(new Uint8Array(data), scene.truth)).toBeGreaterThanOrEqual(0.9);
  }, 60_000);
});
