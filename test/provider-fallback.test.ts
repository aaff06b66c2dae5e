import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startAlibabaEmulator, type AlibabaEmulator } from './emulator/index.js';
import { startAilabtoolsEmulator, type AilabtoolsEmulator } from './peer-emulators/ailabtools.js';
import { startAidgeEmulator, type AidgeEmulator } from './peer-emulators/aidge.js';
import { emulatorEnvironment, peerEnvironment, startTestServer, type TestServer } from './support/server.js';
import { discOnWhite } from './support/images.js';

const ADMIN_TOKEN = 'operator-secret';
const SERVICE = 'product-background-removal';
const SILENCE_MS = 400;

let alibaba: AlibabaEmulator;
let ailabtools: AilabtoolsEmulator;
let aidge: AidgeEmulator;
let server: TestServer;
let imageUrl: string;

type Body = { data: { Provider: string; ImageURL: string }; error?: { code: string; retryable: boolean; message: string; details: Record<string, unknown> } };

function environment(extra: Record<string, string> = {}): Record<string, string> {
  return {
    ...emulatorEnvironment(alibaba),
    ...peerEnvironment({ ailabtools, aidge }),
    IMAGESEG_PROVIDERS: 'ailabtools,aidge,alibaba',
    PAYMENTS: 'required',
    ADMIN_TOKEN,
    ...extra,
  };
}

beforeAll(async () => {
  [alibaba, ailabtools, aidge] = await Promise.all([startAlibabaEmulator(), startAilabtoolsEmulator(), startAidgeEmulator()]);
  // Failures in a row add up across tests on one server: a threshold none of them reaches; the breaker has its own.
  server = await startTestServer(environment(), { providers: { silenceMs: SILENCE_MS, breaker: { failureThreshold: 50, openMs: 60_000 } } });
  imageUrl = alibaba.hostImage(await discOnWhite());
});

afterAll(async () => {
  await server?.close();
  await Promise.all([alibaba?.close(), ailabtools?.close(), aidge?.close()]);
});

beforeEach(() => {
  for (const emulator of [alibaba, ailabtools, aidge]) {
    emulator.calls.length = 0;
    emulator.clearFaults();
  }
});

async function request(method: string, route: string, body?: unknown, headers: Record<string, string> = {}, base = server.url) {
  const response = await fetch(`${base}${route}`, { method, headers: { 'content-type': 'application/json', ...headers }, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: response.status, headers: response.headers, body: (await response.json()) as Body & Record<string, unknown> };
}

async function mint(calls = 1, base = server.url): Promise<string> {
  const minted = await request('POST', '/api/admin/tokens', { serviceId: SERVICE, calls }, { authorization: `Bearer ${ADMIN_TOKEN}` }, base);
  expect(minted.status).toBe(201);
  return minted.body.paymentToken as string;
}

const tokenState = async (token: string, base = server.url) => (await request('GET', `/api/payments/${token}`, undefined, {}, base)).body;
const call = async (token: string, base = server.url) => request('POST', `/api/tools/${SERVICE}`, { ImageURL: imageUrl }, { 'x-payment-token': token }, base);
const counts = () => ({ ailabtools: ailabtools.calls.length, aidge: aidge.calls.length, alibaba: alibaba.calls.filter((entry) => entry.action === 'SegmentCommodity').length });

describe('fallback in the order of IMAGESEG_PROVIDERS', () => {
  it('uses the first provider while it is healthy', async () => {
    const answer = await call(await mint());
    expect(answer.status).toBe(200);
    expect(answer.body.data.Provider).toBe('ailabtools');
    expect(counts()).toEqual({ ailabtools: 1, aidge: 0, alibaba: 0 });
  });

  it('goes to the next provider when the first is throttled (429)', async () => {
    ailabtools.injectFault({ status: 429 });
    const answer = await call(await mint());
    expect(answer.status).toBe(200);
    expect(answer.body.data.Provider).toBe('aidge');
    expect(counts()).toEqual({ ailabtools: 1, aidge: 1, alibaba: 0 });
  });

  it('goes to the next provider when the first is silent for the silence timeout', async () => {
    ailabtools.injectFault({ hang: true });
    const started = Date.now();
    const answer = await call(await mint());
    expect(answer.status).toBe(200);
    expect(answer.body.data.Provider).toBe('aidge');
    expect(Date.now() - started).toBeGreaterThanOrEqual(SILENCE_MS);
  });

  it('uses a one-call token exactly once when two providers failed (503, 501) and the third succeeded', async () => {
    ailabtools.injectFault({ status: 503 });
    aidge.injectFault({ resCode: 501 });
    const token = await mint(1);
    const answer = await call(token);
    expect(answer.status).toBe(200);
    expect(answer.body.data.Provider).toBe('alibaba');
    expect(counts()).toEqual({ ailabtools: 1, aidge: 1, alibaba: 1 });
    expect(await tokenState(token)).toMatchObject({ callsRemaining: 0, callsUsed: 1, callsInProgress: 0 });
    // The token is spent: a second call is not served by anyone.
    expect((await call(token)).status).toBe(402);
    expect(counts().ailabtools).toBe(1);
  });

  it('charges nothing when every provider failed, and answers the last one\'s error', async () => {
    ailabtools.injectFault({ status: 500 });
    aidge.injectFault({ httpStatus: 502 });
    alibaba.injectFault({ code: 'Throttling.User', httpStatus: 400, times: 10 });
    const token = await mint(1);
    const answer = await call(token);
    expect(answer.status).toBe(429);
    expect(answer.body.error).toMatchObject({ code: 'UPSTREAM_THROTTLED', retryable: true, details: { provider: 'alibaba', charged: false } });
    expect(counts().ailabtools + counts().aidge).toBe(2);
    expect(await tokenState(token)).toMatchObject({ callsRemaining: 1, callsUsed: 0, callsInProgress: 0 });
  });

  it('never falls over on the user\'s bad input: ailabtools\' 422 comes back, nobody else is called, nothing is charged', async () => {
    ailabtools.injectFault({ status: 422 });
    const token = await mint(1);
    const answer = await call(token);
    expect(answer.status).toBe(422);
    expect(answer.body.error).toMatchObject({ code: 'IMAGE_INVALID', retryable: false, details: { provider: 'ailabtools', httpStatus: 422 } });
    expect(counts()).toEqual({ ailabtools: 1, aidge: 0, alibaba: 0 });
    expect(await tokenState(token)).toMatchObject({ callsRemaining: 1, callsUsed: 0 });
  });

  it('never falls over on a content-risk refusal: Aidge\'s 1000 is CONTENT_REJECTED, Alibaba is not asked', async () => {
    ailabtools.injectFault({ status: 503 });
    aidge.injectFault({ resCode: 1000 });
    const token = await mint(1);
    const answer = await call(token);
    expect(answer.status).toBe(422);
    expect(answer.body.error).toMatchObject({ code: 'CONTENT_REJECTED', retryable: false, details: { provider: 'aidge', providerCode: '1000', charged: false } });
    expect(counts()).toEqual({ ailabtools: 1, aidge: 1, alibaba: 0 });
    expect(await tokenState(token)).toMatchObject({ callsRemaining: 1, callsUsed: 0 });
  });

  it('goes to the next provider when one refuses our credentials (ailabtools 403)', async () => {
    const misconfigured = await startTestServer(environment({ AILABTOOLS_API_KEY: 'revoked-key' }), { providers: { silenceMs: SILENCE_MS } });
    try {
      const answer = await call(await mint(1, misconfigured.url), misconfigured.url);
      expect(answer.status).toBe(200);
      expect(answer.body.data.Provider).toBe('aidge');
      expect(counts()).toEqual({ ailabtools: 0, aidge: 1, alibaba: 0 });
    } finally {
      await misconfigured.close();
    }
  });

  it('counts calls and fallbacks by provider in /metrics', async () => {
    ailabtools.injectFault({ status: 429 });
    await call(await mint());
    const response = await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    const text = await response.text();
    expect(text).toMatch(/imageseg_provider_fallbacks_total\{tool="product_background_removal",provider="ailabtools",reason="UPSTREAM_THROTTLED"\} [1-9]/);
    expect(text).toMatch(/imageseg_provider_calls_total\{tool="product_background_removal",provider="aidge",outcome="ok"\} [1-9]/);
    expect(text).toMatch(/imageseg_provider_calls_total\{tool="product_background_removal",provider="ailabtools",outcome="UPSTREAM_THROTTLED"\} [1-9]/);
  });

  it('stops at once when the caller goes away while a provider is silent: no other provider, no charge', async () => {
    ailabtools.injectFault({ hang: true });
    const token = await mint(1);
    const controller = new AbortController();
    const pending = fetch(`${server.url}/api/tools/${SERVICE}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-payment-token': token },
      body: JSON.stringify({ ImageURL: imageUrl }),
      signal: controller.signal,
    }).catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 150));
    controller.abort();
    await pending;
    await new Promise((resolve) => setTimeout(resolve, SILENCE_MS + 200));
    expect(counts()).toEqual({ ailabtools: 1, aidge: 0, alibaba: 0 });
    expect(await tokenState(token)).toMatchObject({ callsRemaining: 1, callsUsed: 0, callsInProgress: 0 });
  });
});

describe('a circuit breaker per provider', () => {
  it('opens after failures in a row (the failing provider is no longer called), then probes and uses it again', async () => {
    const breaking = await startTestServer(environment(), { providers: { silenceMs: SILENCE_MS, breaker: { failureThreshold: 3, openMs: 800 } } });
    try {
      ailabtools.injectFault({ status: 503 }, 100);
      for (let index = 0; index < 3; index += 1) expect((await call(await mint(1, breaking.url), breaking.url)).body.data.Provider).toBe('aidge');
      expect(counts().ailabtools).toBe(3);
      for (let index = 0; index < 3; index += 1) expect((await call(await mint(1, breaking.url), breaking.url)).body.data.Provider).toBe('aidge');
      expect(counts()).toMatchObject({ ailabtools: 3, aidge: 6 });

      // Still failing when the probe goes through: it opens again at once.
      await new Promise((resolve) => setTimeout(resolve, 900));
      expect((await call(await mint(1, breaking.url), breaking.url)).body.data.Provider).toBe('aidge');
      expect((await call(await mint(1, breaking.url), breaking.url)).body.data.Provider).toBe('aidge');
      expect(counts().ailabtools).toBe(4);

      // Healthy again: the next probe succeeds and closes it.
      ailabtools.clearFaults();
      await new Promise((resolve) => setTimeout(resolve, 900));
      expect((await call(await mint(1, breaking.url), breaking.url)).body.data.Provider).toBe('ailabtools');
      expect((await call(await mint(1, breaking.url), breaking.url)).body.data.Provider).toBe('ailabtools');
      expect(counts().ailabtools).toBe(6);
      const metrics = await (await fetch(`${breaking.url}/metrics`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).text();
      expect(metrics).toMatch(/imageseg_provider_fallbacks_total\{tool="product_background_removal",provider="ailabtools",reason="circuit_open"\} [1-9]/);
    } finally {
      await breaking.close();
    }
  });

  it('answers a retryable error with Retry-After when every provider\'s circuit is open', async () => {
    const lonely = await startTestServer({ ...environment(), IMAGESEG_PROVIDERS: 'ailabtools' }, { providers: { silenceMs: SILENCE_MS, breaker: { failureThreshold: 2, openMs: 5000 } } });
    try {
      ailabtools.injectFault({ status: 500 }, 10);
      expect((await call(await mint(1, lonely.url), lonely.url)).status).toBe(502);
      expect((await call(await mint(1, lonely.url), lonely.url)).status).toBe(502);
      const token = await mint(1, lonely.url);
      const open = await call(token, lonely.url);
      expect(open.status).toBe(502);
      expect(open.body.error).toMatchObject({ code: 'UPSTREAM_ERROR', retryable: true, details: { circuitOpen: true } });
      expect(Number(open.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(counts().ailabtools).toBe(2);
      expect(await tokenState(token, lonely.url)).toMatchObject({ callsRemaining: 1, callsUsed: 0 });
    } finally {
      await lonely.close();
    }
  });
});
