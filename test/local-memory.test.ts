import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './support/server.js';
import { discOnWhite } from './support/images.js';
import { processTree, resetPeaks, spawnHttpServer, treeMegabytes, type ServerProcess } from './support/processes.js';

/**
 * The embedded model within bounds, for operators on 1-2 GB machines: calls queue (a bounded queue, one call at a
 * time), the model's memory goes back after IMAGESEG_LOCAL_IDLE_SECONDS, and the largest image any Action takes
 * stays under 1 GB, server and engine together. Memory is read from /proc of a real server process and its children.
 */
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A raw PNG body to an ISNet Action (hd-general-segmentation, the one that takes 10000 x 10000; or another, for its ReturnForm). */
async function segment(base: string, png: Buffer, route = 'hd-general-segmentation') {
  const response = await fetch(`${base}/api/tools/${route}`, { method: 'POST', headers: { 'content-type': 'image/png' }, body: new Uint8Array(png) });
  const body = (await response.json()) as { data?: { ImageUrl?: string; ImageURL?: string }; error?: { code: string; retryable: boolean; details: Record<string, unknown> } };
  return { status: response.status, retryAfter: response.headers.get('retry-after'), body, at: performance.now() };
}

describe('local calls wait in a bounded queue', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ IMAGESEG_PROVIDER: 'local', PAYMENTS: 'off', IMAGESEG_LOCAL_QUEUE: '2' });
  });
  afterAll(async () => server?.close());

  it('answers 503 SERVER_BUSY with Retry-After when the queue is full, and runs the waiting calls in order', async () => {
    const png = await discOnWhite(640, 480);
    const first = segment(server.url, png);
    // The first call holds the engine for seconds (it loads the model); the next two wait, the fourth is refused.
    await sleep(300);
    const second = segment(server.url, png);
    await sleep(100);
    const third = segment(server.url, png);
    await sleep(100);
    const refused = await segment(server.url, png);
    expect(refused.status).toBe(503);
    expect(refused.body.error).toMatchObject({ code: 'SERVER_BUSY', retryable: true, details: { waiting: 2, charged: false } });
    expect(Number(refused.retryAfter)).toBeGreaterThanOrEqual(1);
    const answers = await Promise.all([first, second, third]);
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200]);
    expect(answers[0].at).toBeLessThan(answers[1].at);
    expect(answers[1].at).toBeLessThan(answers[2].at);
  }, 120_000);
});

describe('a real server and its local engine, on a small machine', () => {
  let directory: string;
  let server: ServerProcess;
  const rss = () => treeMegabytes(server.child.pid!, 'VmRSS');
  const engineRunning = () => processTree(server.child.pid!).length > 1;
  const maskOf = async (answer: Awaited<ReturnType<typeof segment>>) => Buffer.from(await (await fetch(answer.body.data!.ImageUrl ?? answer.body.data!.ImageURL!)).arrayBuffer());

  async function untilIdle(): Promise<void> {
    for (let waited = 0; engineRunning() && waited < 20_000; waited += 100) await sleep(100);
    expect(engineRunning()).toBe(false);
  }

  beforeAll(async () => {
    directory = mkdtempSync(path.join(tmpdir(), 'imageseg-memory-'));
    server = await spawnHttpServer({ IMAGESEG_PROVIDER: 'local', PAYMENTS: 'off', IMAGESEG_LOCAL_IDLE_SECONDS: '2', DATABASE_URL: path.join(directory, 'ledger.db') });
  });
  afterAll(async () => {
    await server?.stop();
    rmSync(directory, { recursive: true, force: true });
  });

  it('gives the model\'s memory back after IMAGESEG_LOCAL_IDLE_SECONDS, and the next call reloads it and gives the same mask', async () => {
    const png = await discOnWhite(800, 600);
    const before = await segment(server.url, png, 'product-background-removal?ReturnForm=mask');
    expect(before.status, JSON.stringify(before.body)).toBe(200);
    const loaded = rss();
    await untilIdle();
    const idle = rss();
    console.log(`server and engine: ${loaded.toFixed(0)} MB with the model loaded, ${idle.toFixed(0)} MB once released`);
    expect(idle).toBeLessThan(300);
    expect(loaded - idle).toBeGreaterThan(150);
    const started = performance.now();
    const after = await segment(server.url, png, 'product-background-removal?ReturnForm=mask');
    console.log(`reload and call after the idle release: ${Math.round(performance.now() - started)} ms`);
    expect(after.status).toBe(200);
    expect((await maskOf(after)).equals(await maskOf(before))).toBe(true);
  }, 120_000);

  it('takes a 10000 x 10000 PNG with server and engine under 1 GB together, the engine\'s load included', async () => {
    const side = 10_000;
    const png = await discOnWhite(side, side);
    await untilIdle();
    resetPeaks(server.child.pid!);
    const answer = await segment(server.url, png);
    const peak = treeMegabytes(server.child.pid!, 'VmHWM');
    console.log(`10000 x 10000 PNG (${(png.length / 1024).toFixed(0)} KB): peak ${peak.toFixed(0)} MB, server and engine`);
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    expect(peak).toBeLessThan(1024);
    expect(processTree(server.child.pid!).length, 'the engine that served the call was still there to be measured').toBe(2);
    const result = await sharp(await maskOf(answer), { limitInputPixels: false }).metadata();
    expect([result.width, result.height, result.channels]).toEqual([side, side, 4]);
  }, 180_000);

  it('starts a new engine when its engine has died (killed for memory, say)', async () => {
    const png = await discOnWhite(400, 300);
    expect((await segment(server.url, png)).status).toBe(200);
    const [, engine] = processTree(server.child.pid!);
    expect(engine).toBeDefined();
    process.kill(engine, 'SIGKILL');
    await untilIdle();
    expect((await segment(server.url, png)).status).toBe(200);
  }, 120_000);
});
