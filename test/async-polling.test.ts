import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAlibabaEmulator, type AlibabaEmulator } from './emulator/index.js';
import { emulatorEnvironment, startTestServer, type TestServer } from './support/server.js';
import { productPhoto } from '../bench/lib/images.js';

const HD = '/api/tools/hd-general-segmentation';
/** A small budget, so that a job within it takes seconds: at most 6 polls for a job of up to 3 s. */
const POLLING = { initialMs: 100, factor: 1.5, maxMs: 1000, budgetPolls: 6, budgetMs: 3000, minGapMs: 50 };

// Read by the emulator at each submission: the next job's length.
const timings = { queuingMs: 400, processingMs: 0 };
let emulator: AlibabaEmulator;
let server: TestServer;
let imageUrl: string;

beforeAll(async () => {
  emulator = await startAlibabaEmulator({ jobTimings: timings });
  server = await startTestServer(emulatorEnvironment(emulator), { polling: POLLING });
  imageUrl = emulator.hostImage(await productPhoto(320, 256), 'image/jpeg');
});

afterAll(async () => {
  await server?.close();
  await emulator?.close();
});

const pollsOf = (jobId: string) => emulator.calls.filter((call) => call.action === 'GetAsyncJobResult' && call.params.JobId === jobId);

async function runJob(lengthMs: number, signal?: AbortSignal) {
  timings.queuingMs = lengthMs;
  const response = await fetch(`${server.url}${HD}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ ImageUrl: imageUrl, deliver: 'url' }),
    ...(signal ? { signal } : {}),
  });
  const body = (await response.json()) as { data: { JobId: string; ImageUrl?: string } };
  expect(response.status, JSON.stringify(body)).toBe(200);
  return { jobId: body.data.JobId, imageUrl: body.data.ImageUrl, polls: pollsOf(body.data.JobId).length };
}

describe('asynchronous jobs polled on the learned schedule', () => {
  it('delivers every job\'s result, and a job within the budget\'s length costs no more than its polls, before and after learning', async () => {
    // Shorter than budgetMs by a margin: the emulator's timers and work run late on a loaded machine.
    const cold = await runJob(2500);
    expect(cold.polls).toBeLessThanOrEqual(POLLING.budgetPolls);
    for (let job = 0; job < 4; job += 1) {
      const short = await runJob(400);
      expect(short.imageUrl).toMatch(/^http/);
      expect((await fetch(short.imageUrl!)).status).toBe(200);
    }
    const learned = await runJob(2500);
    expect(learned.imageUrl).toMatch(/^http/);
    expect(learned.polls).toBeLessThanOrEqual(POLLING.budgetPolls);
  }, 30_000);

  it('stops polling at once when the client goes away', async () => {
    for (let job = 0; job < 3; job += 1) await runJob(400);
    const submissions = emulator.calls.filter((call) => call.action === 'SegmentHDCommonImage').length;
    const hangUp = new AbortController();
    const call = runJob(2500, hangUp.signal).catch(() => undefined);
    await expect.poll(() => emulator.calls.filter((call) => call.action === 'SegmentHDCommonImage').length).toBe(submissions + 1);
    await new Promise((resolve) => setTimeout(resolve, 700));
    hangUp.abort();
    const droppedAt = Date.now();
    await call;
    await new Promise((resolve) => setTimeout(resolve, 2500));
    expect(emulator.calls.filter((entry) => entry.action === 'GetAsyncJobResult' && entry.at > droppedAt + 100)).toEqual([]);
  }, 30_000);
});
