import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAlibabaEmulator, type AlibabaEmulator } from './emulator/index.js';
import { emulatorEnvironment, startTestServer, type TestServer } from './support/server.js';
import { discOnWhite } from './support/images.js';
import { capabilities } from '../tools/index.js';

let emulator: AlibabaEmulator;
let server: TestServer;
let imageUrl: string;

beforeAll(async () => {
  emulator = await startAlibabaEmulator();
  server = await startTestServer(emulatorEnvironment(emulator));
  imageUrl = emulator.hostImage(await discOnWhite());
});

afterAll(async () => {
  await server?.close();
  await emulator?.close();
});

async function post(path: string, body: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  return { status: response.status, body: (await response.json()) as Record<string, any> };
}

describe('REST API', () => {
  it('calls a tool by serviceId and by its legacy id through the same pipeline', async () => {
    for (const id of ['product-background-removal', 'aliyun-imageseg-segment-commodity']) {
      const { status, body } = await post(`/api/tools/${id}`, { ImageURL: imageUrl, ReturnForm: 'mask' });
      expect(status).toBe(200);
      expect(body).toMatchObject({ code: '200', message: 'success', data: { Action: 'SegmentCommodity' } });
      expect(body.requestId).toBeTruthy();
      expect(body.data.ImageURL).toMatch(/^http:/);
    }
    expect(emulator.calls.filter((entry) => entry.action === 'SegmentCommodity').at(-1)!.params.ReturnForm).toBe('mask');
  });

  it('answers errors in one shape with the status their code implies', async () => {
    const missing = await post('/api/tools/product-background-removal', {});
    expect(missing.status).toBe(400);
    expect(missing.body.error).toMatchObject({ code: 'INVALID_ARGUMENT', retryable: false });
    expect(missing.body.error.message).toContain('ImageURL');

    const misspelt = await post('/api/tools/product-background-removal', { ImageUrl: imageUrl });
    expect(misspelt.status).toBe(400);
    expect(misspelt.body.error.message).toContain('ImageUrl');

    const unknown = await post('/api/tools/no-such-service', { ImageURL: imageUrl });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('NOT_FOUND');

    const malformed = await fetch(`${server.url}/api/tools/product-background-removal`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"ImageURL":' });
    expect(malformed.status).toBe(400);
    expect(((await malformed.json()) as { error: { code: string } }).error.code).toBe('INVALID_ARGUMENT');
  });

  it('refuses an image over the Action\'s byte limit before Alibaba is called', async () => {
    const before = emulator.calls.length;
    const noise = Buffer.alloc(3 * 1024 * 1024 + 10, 7);
    const { status, body } = await post('/api/tools/product-background-removal', { ImageURL: `data:image/png;base64,${noise.toString('base64')}` });
    expect(status).toBe(413);
    expect(body.error.code).toBe('IMAGE_TOO_LARGE');
    expect(body.error.message).toMatch(/MB > 3\.0 MB for SegmentCommodity/);
    expect(emulator.calls.length).toBe(before);
  });

  it('searches the catalog with ranked results', async () => {
    const response = await fetch(`${server.url}/api/catalog/search?q=${encodeURIComponent('background removal')}`);
    const body = (await response.json()) as { count: number; results: Array<{ serviceId: string; endpoint: string; price: { amount: string } }> };
    expect(body.results[0].serviceId).toBe('product-background-removal');
    expect(body.results[0].endpoint).toBe(`${server.url}/api/tools/product-background-removal`);
    expect(body.results[0].price.amount).toBe('0.20');
  });

  it('filters the catalog by kind, shown in each entry and as the OpenAPI tag', async () => {
    const people = (await (await fetch(`${server.url}/api/catalog/search?q=segmentation&kind=people`)).json()) as { kind: string; results: Array<{ serviceId: string; kind: string; servedBy: string[] }> };
    expect(people.kind).toBe('people');
    expect(people.results.map((entry) => entry.serviceId)).toEqual(expect.arrayContaining(['body-segmentation', 'face-parsing', 'hair-segmentation']));
    expect(people.results.every((entry) => entry.kind === 'people')).toBe(true);
    expect(people.results.map((entry) => entry.serviceId)).not.toContain('product-background-removal');
    const all = (await (await fetch(`${server.url}/api/catalog/search`)).json()) as { results: Array<{ kind: string; servedBy: string[]; serviceId: string }> };
    expect(new Set(all.results.map((entry) => entry.kind))).toEqual(new Set(['people', 'products', 'scenes', 'hd', 'utility']));
    expect(all.results.find((entry) => entry.serviceId === 'product-background-removal')?.servedBy.length).toBeGreaterThan(0);
    const wrong = await fetch(`${server.url}/api/catalog/search?kind=animals`);
    expect(wrong.status).toBe(400);
    expect(((await wrong.json()) as { error: { code: string; message: string } }).error.message).toMatch(/people, products, scenes, hd, utility/);
    const openapi = (await (await fetch(`${server.url}/openapi.json`)).json()) as { paths: Record<string, { post: { tags: string[]; 'x-kind': string } }> };
    expect(openapi.paths['/api/tools/sky-replacement'].post).toMatchObject({ 'x-kind': 'scenes', tags: expect.arrayContaining(['scenes']) });
  });

  it('serves OpenAPI, a service page, and health', async () => {
    const openapi = (await (await fetch(`${server.url}/openapi.json`)).json()) as { openapi: string; paths: Record<string, unknown> };
    expect(openapi.openapi).toBe('3.1.0');
    expect(Object.keys(openapi.paths)).toContain('/api/tools/mask-refinement');

    const page = await fetch(`${server.url}/services/mask-refinement`);
    expect(page.headers.get('content-type')).toContain('text/html');
    const html = await page.text();
    for (const expected of ['Refine', 'USD 0.20', 'MaskImageURL', 'curl -X POST', 'tools/call', 'mask_refinement']) expect(html).toContain(expected);
    expect((await fetch(`${server.url}/services/nope`)).status).toBe(404);

    const health = (await (await fetch(`${server.url}/healthz`)).json()) as { status: string; tools: number; provider: string };
    expect(health).toMatchObject({ status: 'ok', tools: capabilities.length, provider: 'alibaba' });
  });

  it('counts calls by tool, provider and outcome for Prometheus', async () => {
    await post('/api/tools/product-background-removal', {});
    const text = await (await fetch(`${server.url}/metrics`)).text();
    expect(text).toMatch(/imageseg_calls_total\{tool="product_background_removal",provider="alibaba",outcome="ok"\} [1-9]/);
    expect(text).toMatch(/imageseg_calls_total\{tool="product_background_removal",provider="alibaba",outcome="INVALID_ARGUMENT"\} [1-9]/);
    expect(text).toContain('imageseg_call_duration_seconds_bucket');
  });

  it('refuses a foreign Host or Origin on /mcp (DNS rebinding protection)', async () => {
    const initialize = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } } });
    const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
    const foreignOrigin = await fetch(`${server.url}/mcp`, { method: 'POST', headers: { ...headers, origin: 'http://evil.example' }, body: initialize });
    expect(foreignOrigin.status).toBe(403);
    const sameOrigin = await fetch(`${server.url}/mcp`, { method: 'POST', headers: { ...headers, origin: server.url }, body: initialize });
    expect(sameOrigin.status).toBe(200);
    const http = await import('node:http');
    const status = await new Promise<number>((resolve, reject) => {
      const request = http.request(`${server.url}/mcp`, { method: 'POST', headers: { ...headers, host: 'evil.example' } }, (response) => resolve(response.statusCode ?? 0));
      request.on('error', reject);
      request.end(initialize);
    });
    expect(status).toBe(403);
  });
});
