import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Wallet } from 'ethers';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { decodePaymentRequiredHeader, decodePaymentResponseHeader, encodePaymentSignatureHeader } from '@x402/core/http';
import { startAlibabaEmulator, type AlibabaEmulator } from './emulator/index.js';
import { startFacilitator, type LoopbackFacilitator } from './facilitator/index.js';
import { emulatorEnvironment, startTestServer, type TestServer } from './support/server.js';
import { createPayer, type Payer } from './support/payments.js';
import { discOnWhite } from './support/images.js';

const PAY_TO = new Wallet(Wallet.createRandom().privateKey).address;
const PRICE = 200_000n;
const SERVICE = 'product-background-removal';
/** Decodes as base64 but is no image: refused by the pre-check, before any provider work. */
const BROKEN = `data:image/png;base64,${Buffer.from('this is not a picture at all, just some text').toString('base64')}`;

let emulator: AlibabaEmulator;
let facilitator: LoopbackFacilitator;
let server: TestServer;
let payer: Payer;
let items: Array<{ ImageURL: string }>;

beforeAll(async () => {
  emulator = await startAlibabaEmulator();
  facilitator = await startFacilitator();
  server = await startTestServer({ ...emulatorEnvironment(emulator), PAYMENTS: 'required', X402_PAY_TO: PAY_TO, X402_FACILITATOR_URL: facilitator.url });
  const photo = emulator.hostImage(await discOnWhite());
  items = [{ ImageURL: photo }, { ImageURL: photo }, { ImageURL: BROKEN }, { ImageURL: photo }];
  payer = createPayer();
  facilitator.fund(payer.address, 100_000_000n);
});

afterAll(async () => {
  await server?.close();
  await facilitator?.close();
  await emulator?.close();
});

const segmentCalls = () => emulator.calls.filter((call) => call.action === 'SegmentCommodity').length;
const mint = async (calls: number) => (await server.context.payments.mintToken({ serviceId: SERVICE, calls })).paymentToken;
const used = async (token: string) => (await server.context.payments.describeToken(token))!.callsUsed;

async function batch(body: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(`${server.url}/api/batch/${SERVICE}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  return { status: response.status, headers: response.headers, body: (await response.json()) as Record<string, any> };
}

function expectThreeOfFour(data: Record<string, any>) {
  expect(data.Action).toBe('Batch');
  expect(data.Results.map((result: { index: number; ok: boolean }) => [result.index, result.ok])).toEqual([[0, true], [1, true], [2, false], [3, true]]);
  expect(data.Results[0].data.ImageURL).toMatch(/^http:/);
  expect(data.Results[2].error).toMatchObject({ code: 'IMAGE_INVALID', details: { charged: false } });
}

describe('POST /api/batch/<serviceId>', () => {
  it('answers an unpaid batch with one 402 for items x the price, and runs nothing', async () => {
    const before = segmentCalls();
    const answer = await batch({ items });
    expect(answer.status).toBe(402);
    const required = decodePaymentRequiredHeader(answer.headers.get('payment-required')!);
    expect(required.accepts[0].amount).toBe(String(4n * PRICE));
    expect(required.resource.url).toBe(`${server.url}/api/batch/${SERVICE}`);
    expect(answer.body.message).toContain('USD 0.80 for 4 calls');
    expect(segmentCalls()).toBe(before);
  });

  it('charges a token one use per successful item: four items with one broken image are three uses', async () => {
    const token = await mint(10);
    const before = segmentCalls();
    const answer = await batch({ items }, { 'x-payment-token': token });
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    expectThreeOfFour(answer.body.data);
    expect(answer.body.data.Credit).toBeUndefined();
    expect(segmentCalls() - before).toBe(3);
    expect(await used(token)).toBe(3);
  });

  it('runs and pays a batch once per idempotency key', async () => {
    const token = await mint(10);
    const first = await batch({ items }, { 'x-payment-token': token, 'idempotency-key': 'batch-key-1' });
    const again = await batch({ items }, { 'x-payment-token': token, 'idempotency-key': 'batch-key-1' });
    expect(again.status).toBe(200);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body.requestId).toBe(first.body.requestId);
    expect(await used(token)).toBe(3);
  });

  it('settles an x402 batch once and gives the value of the failed item back as a payment token', async () => {
    const unpaid = await batch({ items });
    const required = decodePaymentRequiredHeader(unpaid.headers.get('payment-required')!);
    const payload = await payer.pay(required);
    const balance = facilitator.balanceOf(payer.address);
    const answer = await batch({ items }, { 'PAYMENT-SIGNATURE': encodePaymentSignatureHeader(payload) });
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    expectThreeOfFour(answer.body.data);
    expect(facilitator.balanceOf(payer.address)).toBe(balance - 4n * PRICE);
    expect(decodePaymentResponseHeader(answer.headers.get('payment-response')!)).toMatchObject({ success: true });
    const credit = answer.body.data.Credit as { paymentToken: string; calls: number };
    expect(credit.calls).toBe(1);
    expect(await server.context.payments.describeToken(credit.paymentToken)).toMatchObject({ serviceId: SERVICE, callsRemaining: 1 });
    const spent = await fetch(`${server.url}/api/tools/${SERVICE}`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-payment-token': credit.paymentToken }, body: JSON.stringify(items[0]) });
    expect(spent.status).toBe(200);
  });

  it('settles nothing when every item of an x402 batch fails', async () => {
    const broken = [{ ImageURL: BROKEN }, { ImageURL: BROKEN }];
    const unpaid = await batch({ items: broken });
    const payload = await payer.pay(decodePaymentRequiredHeader(unpaid.headers.get('payment-required')!));
    const balance = facilitator.balanceOf(payer.address);
    const settles = facilitator.calls.settle;
    const answer = await batch({ items: broken }, { 'PAYMENT-SIGNATURE': encodePaymentSignatureHeader(payload) });
    expect(answer.status).toBe(200);
    expect(answer.body.data.Results.every((result: { ok: boolean }) => !result.ok)).toBe(true);
    expect(answer.body.data.Credit).toBeUndefined();
    expect(facilitator.calls.settle).toBe(settles);
    expect(facilitator.balanceOf(payer.address)).toBe(balance);
  });

  it('charges nothing when the caller goes away before the batch answer, even for items already done', async () => {
    const token = await mint(5);
    emulator.delayNext('SegmentCommodity', 1500);
    const before = segmentCalls();
    const controller = new AbortController();
    const sent = fetch(`${server.url}/api/batch/${SERVICE}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-payment-token': token },
      body: JSON.stringify({ items: items.slice(0, 2) }),
      signal: controller.signal,
    }).catch(() => undefined);
    // Item 1 is done (its use held for the batch) while item 0 still waits on the delayed provider answer.
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(segmentCalls() - before).toBe(2);
    controller.abort();
    await sent;
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(await server.context.payments.describeToken(token)).toMatchObject({ callsUsed: 0, callsInProgress: 0, callsRemaining: 5 });
  });

  it('refuses more than 20 items and an unknown tool', async () => {
    const token = await mint(1);
    const tooMany = await batch({ items: Array.from({ length: 21 }, () => items[0]) }, { 'x-payment-token': token });
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.error.details).toMatchObject({ fields: ['items'], charged: false });
    const unknown = await fetch(`${server.url}/api/batch/no-such-tool`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ items }) });
    expect(unknown.status).toBe(404);
  });
});

describe('a batch with PAYMENTS=off', () => {
  it('runs every item with the embedded provider and charges nothing', async () => {
    const local = await startTestServer({ IMAGESEG_PROVIDER: 'local', PAYMENTS: 'off' });
    try {
      const photo = `data:image/png;base64,${(await discOnWhite(96, 96)).toString('base64')}`;
      const item = { ImageURL: photo, MaskImageURL: photo, deliver: 'stored' };
      const response = await fetch(`${local.url}/api/batch/mask-refinement`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ items: [item, item] }) });
      const body = (await response.json()) as Record<string, any>;
      expect(response.status, JSON.stringify(body)).toBe(200);
      expect(body.data.Results.map((result: { ok: boolean }) => result.ok)).toEqual([true, true]);
      expect(body.data.Credit).toBeUndefined();
    } finally {
      await local.close();
    }
  });
});

describe('the batch_segmentation MCP tool', () => {
  let client: Client;
  beforeAll(async () => {
    client = new Client({ name: 'imageseg-test', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${server.url}/mcp`)));
  });
  afterAll(async () => client?.close());

  it('is listed, reports progress per item and pays one token use per successful item', async () => {
    const { tools } = await client.listTools();
    expect(tools.map((tool) => tool.name)).toContain('batch_segmentation');
    const token = await mint(5);
    const progress: number[] = [];
    const result = (await client.callTool(
      { name: 'batch_segmentation', arguments: { tool: 'product_background_removal', items: items.map((item) => ({ ...item, deliver: 'url' })), paymentToken: token } },
      undefined,
      { onprogress: (update) => progress.push(update.progress), timeout: 20_000 },
    )) as CallToolResult;
    expect(result.isError).toBeFalsy();
    expectThreeOfFour((result.structuredContent as { data: Record<string, any> }).data);
    expect(progress).toEqual([1, 2, 3, 4]);
    expect(await used(token)).toBe(3);
  });

  it('answers an unpaid batch with one x402 payment-required result for items x the price', async () => {
    const result = (await client.callTool({ name: 'batch_segmentation', arguments: { tool: 'product_background_removal', items } })) as CallToolResult;
    expect(result.isError).toBe(true);
    const structured = result.structuredContent as { accepts: Array<{ amount: string }>; data: { Action: string } };
    expect(structured.accepts[0].amount).toBe(String(4n * PRICE));
    expect(structured.data.Action).toBe('Batch');
  });
});
