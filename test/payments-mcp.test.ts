import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Wallet } from 'ethers';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { PaymentRequired, SettleResponse } from '@x402/core/types';
import { parsePaymentRequired } from '@x402/core/schemas';
import { startAlibabaEmulator, type AlibabaEmulator } from './emulator/index.js';
import { startFacilitator, type LoopbackFacilitator } from './facilitator/index.js';
import { emulatorEnvironment, startTestServer, type TestServer } from './support/server.js';
import { createPayer, type Payer } from './support/payments.js';
import { discOnWhite } from './support/images.js';

const CLI = path.resolve('dist/cli.js');
const PAY_TO = new Wallet(Wallet.createRandom().privateKey).address;
const ADMIN_TOKEN = 'operator-secret';

let emulator: AlibabaEmulator;
let facilitator: LoopbackFacilitator;
let server: TestServer;
let client: Client;
let payer: Payer;
let imageUrl: string;

function paidEnvironment(): Record<string, string> {
  return { ...emulatorEnvironment(emulator), PAYMENTS: 'required', X402_PAY_TO: PAY_TO, X402_FACILITATOR_URL: facilitator.url, ADMIN_TOKEN };
}

beforeAll(async () => {
  emulator = await startAlibabaEmulator();
  facilitator = await startFacilitator();
  server = await startTestServer(paidEnvironment());
  client = new Client({ name: 'payments-test', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${server.url}/mcp`)));
  payer = createPayer();
  facilitator.fund(payer.address, 10_000_000n);
  imageUrl = emulator.hostImage(await discOnWhite());
});

afterAll(async () => {
  await client?.close();
  await server?.close();
  await facilitator?.close();
  await emulator?.close();
});

type Structured = PaymentRequired & { code: string; content: string; data: { Action: string }; message: string; requestId: string; charged: boolean };

const call = (mcp: Client, args: Record<string, unknown>, meta?: Record<string, unknown>) =>
  mcp.callTool({ name: 'product_background_removal', arguments: args, ...(meta ? { _meta: meta } : {}) }) as Promise<CallToolResult>;
const providerCalls = () => emulator.calls.length;

/** What an x402 MCP client reads: structuredContent, else the `x402/error` wrapper in content[0]. */
function paymentRequiredOf(result: CallToolResult): PaymentRequired {
  const wrapper = JSON.parse((result.content[0] as { text: string }).text) as { 'x402/error': { code: number; data: PaymentRequired } };
  expect(wrapper['x402/error'].code).toBe(402);
  return wrapper['x402/error'].data;
}

function expectPaymentAnswer(result: CallToolResult, reason: string): Structured {
  expect(result.isError).toBe(true);
  const structured = result.structuredContent as Structured;
  expect(structured).toMatchObject({ x402Version: 2, error: reason, code: '402', data: { Action: 'SegmentCommodity' }, charged: false });
  expect(structured.requestId).toBeTruthy();
  expect(paymentRequiredOf(result).error).toBe(reason);
  return structured;
}

describe('payments over MCP (streamable HTTP)', () => {
  it('offers paid tools a paymentToken argument and says their price', async () => {
    const { tools } = await client.listTools();
    const product = tools.find((tool) => tool.name === 'product_background_removal')!;
    expect(product.inputSchema.properties).toHaveProperty('paymentToken');
    expect(product.description).toContain('Price: USD 0.20 per call');
  });

  it('answers an unpaid call with an isError result carrying the x402 PaymentRequired and advice in words', async () => {
    const before = providerCalls();
    const result = await call(client, { ImageURL: imageUrl });
    const structured = expectPaymentAnswer(result, 'payment_required');
    expect(structured.content).toBe('PAYMENT_REQUIRED');
    expect(structured.accepts[0]).toMatchObject({ scheme: 'exact', network: 'eip155:84532', amount: '200000', payTo: PAY_TO });
    expect(structured.extensions).toMatchObject({ serviceId: 'product-background-removal', price: { amount: '0.20', currency: 'USD' } });
    expect(parsePaymentRequired(paymentRequiredOf(result)).success).toBe(true);
    const advice = (result.content[1] as { text: string }).text;
    expect(advice).toContain('paymentToken');
    expect(advice).toContain('/api/payments');
    expect(advice).toContain('x402/payment');
    expect(providerCalls()).toBe(before);
  });

  it('runs a call paid with the paymentToken argument, once', async () => {
    const minted = await fetch(`${server.url}/api/admin/tokens`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
      body: JSON.stringify({ serviceId: 'product-background-removal' }),
    });
    const { paymentToken } = (await minted.json()) as { paymentToken: string };
    const paid = await call(client, { ImageURL: imageUrl, paymentToken });
    expect(paid.isError).toBeFalsy();
    expect((paid.structuredContent as { data: { Action: string } }).data.Action).toBe('SegmentCommodity');
    expect(paid._meta?.['x402/payment-response']).toBeUndefined();
    const before = providerCalls();
    expectPaymentAnswer(await call(client, { ImageURL: imageUrl, paymentToken }), 'payment_token_exhausted');
    expect(providerCalls()).toBe(before);
  });

  it('runs a call paid with an x402 PaymentPayload in _meta["x402/payment"] and returns the receipt in _meta', async () => {
    const unpaid = await call(client, { ImageURL: imageUrl });
    const payload = await payer.pay(paymentRequiredOf(unpaid));
    const paid = await call(client, { ImageURL: imageUrl }, { 'x402/payment': payload });
    expect(paid.isError).toBeFalsy();
    const receipt = paid._meta?.['x402/payment-response'] as SettleResponse;
    expect(receipt).toMatchObject({ success: true, payer: payer.address, network: 'eip155:84532' });
    expect(receipt.transaction).toBe(facilitator.settlements.at(-1)!.transaction);

    const before = providerCalls();
    const replay = await call(client, { ImageURL: imageUrl }, { 'x402/payment': payload });
    expect((replay.structuredContent as Structured).content).toBe('PAYMENT_INVALID');
    expectPaymentAnswer(replay, 'invalid_exact_evm_nonce_already_used');
    expect(providerCalls()).toBe(before);
  });

  it('refuses an underpaying x402 payment with its reason', async () => {
    const unpaid = paymentRequiredOf(await call(client, { ImageURL: imageUrl }));
    const payload = await payer.payExactly({ ...unpaid.accepts[0], amount: '100000' }, unpaid, unpaid.accepts[0]);
    const settlements = facilitator.settlements.length;
    const refused = await call(client, { ImageURL: imageUrl }, { 'x402/payment': payload });
    const structured = expectPaymentAnswer(refused, 'invalid_exact_evm_payload_authorization_value_mismatch');
    expect(structured.message).toContain('underpaid');
    expect(facilitator.settlements.length).toBe(settlements);
  });
});

describe('payments over MCP stdio (the built CLI)', () => {
  let dataDirectory: string;
  beforeAll(() => {
    if (!existsSync(CLI)) throw new Error('dist/cli.js is missing: run `npm run build` (npm test does)');
    dataDirectory = mkdtempSync(path.join(tmpdir(), 'imageseg-stdio-payments-'));
  });
  afterAll(() => rmSync(dataDirectory, { recursive: true, force: true }));

  it('asks for payment, then runs the call with a token minted by `imageseg-mcp tokens mint`', async () => {
    const environment = { PATH: process.env.PATH ?? '', ...emulatorEnvironment(emulator), PAYMENTS: 'required', DATABASE_URL: path.join(dataDirectory, 'ledger.db') };
    const stdio = new Client({ name: 'stdio-payments', version: '1.0.0' });
    const transport = new StdioClientTransport({ command: process.execPath, args: [CLI, 'stdio'], env: environment, stderr: 'pipe' });
    let logs = '';
    transport.stderr?.on('data', (chunk: Buffer) => (logs += chunk.toString()));
    await stdio.connect(transport);
    try {
      const unpaid = await call(stdio, { ImageURL: imageUrl });
      const structured = expectPaymentAnswer(unpaid, 'payment_required');
      expect(structured.accepts).toEqual([]);
      expect(structured.message).toContain('tokens mint');
      for (let waited = 0; waited < 2000 && !logs.includes('x402 payments are off'); waited += 50) await new Promise((resolve) => setTimeout(resolve, 50));
      expect(logs).toContain('x402 payments are off until a pay-to address is set');

      const minted = await promisify(execFile)(process.execPath, [CLI, 'tokens', 'mint', '--service', 'product-background-removal', '--calls', '2'], { env: environment });
      const paymentToken = minted.stdout.trim();
      expect(paymentToken).toMatch(/^imgseg_[A-Za-z0-9_-]{43}$/);
      expect(minted.stderr).toContain('2 call(s)');

      const paid = await call(stdio, { ImageURL: imageUrl, paymentToken });
      expect(paid.isError).toBeFalsy();
      const shown = await promisify(execFile)(process.execPath, [CLI, 'tokens', 'show', paymentToken], { env: environment });
      expect(JSON.parse(shown.stdout)).toMatchObject({ callsUsed: 1, callsRemaining: 1 });
      await promisify(execFile)(process.execPath, [CLI, 'tokens', 'revoke', paymentToken], { env: environment });
      expectPaymentAnswer(await call(stdio, { ImageURL: imageUrl, paymentToken }), 'payment_token_revoked');
    } finally {
      await stdio.close();
    }
  });
});
