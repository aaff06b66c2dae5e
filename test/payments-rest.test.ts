import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { Wallet } from 'ethers';
import { decodePaymentRequiredHeader, decodePaymentResponseHeader, encodePaymentSignatureHeader } from '@x402/core/http';
import { parsePaymentRequired } from '@x402/core/schemas';
import type { PaymentRequired, PaymentRequirements } from '@x402/core/types';
import { startAlibabaEmulator, type AlibabaEmulator } from './emulator/index.js';
import { startFacilitator, BASE_SEPOLIA_USDC, type LoopbackFacilitator } from './facilitator/index.js';
import { startTestServer, type TestServer } from './support/server.js';
import { createPayer, toHeader, type Payer } from './support/payments.js';
import { discOnWhite } from './support/images.js';
import { admin, jsonRequest, mintToken, paidEnvironment as sharedPaidEnvironment, type Answer } from './support/rest.js';

const PAY_TO = new Wallet(Wallet.createRandom().privateKey).address;
const PRICE = 200_000n;
const SERVICE = 'product-background-removal';

let emulator: AlibabaEmulator;
let facilitator: LoopbackFacilitator;
let server: TestServer;
let payer: Payer;
let imageUrl: string;

const paidEnvironment = (extra: Record<string, string> = {}) => sharedPaidEnvironment(emulator, facilitator, PAY_TO, extra);

beforeAll(async () => {
  emulator = await startAlibabaEmulator({ jobTimings: { queuingMs: 100, processingMs: 200 } });
  facilitator = await startFacilitator();
  server = await startTestServer(paidEnvironment(), { jobPollingMs: 50 });
  imageUrl = emulator.hostImage(await discOnWhite());
  payer = createPayer();
  facilitator.fund(payer.address, 100_000_000n);
});

afterAll(async () => {
  await server?.close();
  await facilitator?.close();
  await emulator?.close();
});

beforeEach(() => {
  emulator.clearFaults();
});

const request = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}, base = server.url): Promise<Answer> => jsonRequest(base, method, path, body, headers);
const callTool = (headers: Record<string, string> = {}, body: unknown = { ImageURL: imageUrl }, id = SERVICE, base = server.url) => request('POST', `/api/tools/${id}`, body, headers, base);
const providerCalls = () => emulator.calls.filter((entry) => entry.action !== 'GetAsyncJobResult').length;
const mint = (serviceId = SERVICE, calls = 1, base = server.url) => mintToken(base, serviceId, calls);

async function unpaidRequirements(): Promise<PaymentRequired> {
  const unpaid = await callTool();
  return decodePaymentRequiredHeader(unpaid.headers.get('payment-required')!);
}

/** Everything a refused payment must leave untouched. */
function snapshot() {
  return { provider: providerCalls(), settlements: facilitator.settlements.length, payer: facilitator.balanceOf(payer.address), payTo: facilitator.balanceOf(PAY_TO) };
}

describe('payment-required answers', () => {
  it('answers an unpaid call with 402, the x402 PaymentRequired as body and PAYMENT-REQUIRED header, and calls no provider', async () => {
    const before = providerCalls();
    const answer = await callTool();
    expect(answer.status).toBe(402);
    expect(answer.headers.get('cache-control')).toBe('no-store');
    const header = decodePaymentRequiredHeader(answer.headers.get('payment-required')!);
    const { message, retryable, charged, ...body } = answer.body;
    expect(body).toEqual(header);
    expect(parsePaymentRequired(header).success).toBe(true);
    expect(header).toMatchObject({
      x402Version: 2,
      error: 'payment_required',
      resource: { url: `${server.url}/api/tools/${SERVICE}`, mimeType: 'application/json' },
      accepts: [{ scheme: 'exact', network: 'eip155:84532', asset: BASE_SEPOLIA_USDC, amount: '200000', payTo: PAY_TO, extra: { name: 'USDC', version: '2' } }],
      extensions: {
        serviceId: SERVICE,
        price: { amount: '0.20', currency: 'USD', billing: 'per_call', maxCallsPerPayment: 1 },
        payments: { endpoint: `${server.url}/api/payments`, method: 'POST', body: { serviceId: SERVICE } },
      },
    });
    expect(header.accepts[0].maxTimeoutSeconds).toBeGreaterThanOrEqual(300);
    const retry = (header.extensions!.retry as Array<{ http: { header: string } }>).map((way) => way.http.header);
    expect(retry).toEqual(['X-Payment-Token', 'PAYMENT-SIGNATURE', 'X-PAYMENT']);
    expect(charged).toBe(false);
    expect(retryable).toBe(false);
    expect(message).toContain('/api/payments');
    expect(providerCalls()).toBe(before);
  });

  it('keeps free capabilities free', async () => {
    const answer = await callTool({}, { JobId: 'no-such-job' }, 'async-job-result');
    // Past the payment gate without paying: the job lookup answers, and it knows no such job.
    expect(answer.status).toBe(404);
    expect(answer.body.error.code).toBe('NOT_FOUND');
  });

  it('validates arguments before asking for money, and says nothing was charged', async () => {
    const answer = await callTool({}, {});
    expect(answer.status).toBe(400);
    expect(answer.body.error).toMatchObject({ code: 'INVALID_ARGUMENT', details: { charged: false } });
  });

  it('offers the token route but no x402 option while no pay-to address is set', async () => {
    const tokenOnly = await startTestServer({ ...paidEnvironment(), X402_PAY_TO: '' });
    try {
      const answer = await callTool({}, undefined, SERVICE, tokenOnly.url);
      expect(answer.status).toBe(402);
      expect(answer.body.accepts).toEqual([]);
      expect(answer.body.extensions.payments.endpoint).toBe(`${tokenOnly.url}/api/payments`);
      expect(answer.body.message).toContain('X402_PAY_TO');
      const payload = await payer.pay(await unpaidRequirements());
      const x402 = await callTool({ 'PAYMENT-SIGNATURE': encodePaymentSignatureHeader(payload) }, undefined, SERVICE, tokenOnly.url);
      expect(x402.body.error).toBe('x402_not_accepted');
      const token = await mint(SERVICE, 1, tokenOnly.url);
      expect((await callTool({ 'X-Payment-Token': token }, undefined, SERVICE, tokenOnly.url)).status).toBe(200);
    } finally {
      await tokenOnly.close();
    }
  });
});

describe('paying per call with x402', () => {
  it('runs a call paid with PAYMENT-SIGNATURE, settles only after it succeeded, and returns the receipt', async () => {
    const payload = await payer.pay(await unpaidRequirements());
    const before = snapshot();
    const answer = await callTool({ 'PAYMENT-SIGNATURE': encodePaymentSignatureHeader(payload) });
    expect(answer.status).toBe(200);
    expect(answer.body.data.Action).toBe('SegmentCommodity');
    const receipt = decodePaymentResponseHeader(answer.headers.get('payment-response')!);
    expect(receipt).toMatchObject({ success: true, network: 'eip155:84532', payer: payer.address });
    expect(receipt.transaction).toBe(facilitator.settlements.at(-1)!.transaction);
    expect(facilitator.balanceOf(PAY_TO)).toBe(before.payTo + PRICE);
    expect(facilitator.balanceOf(payer.address)).toBe(before.payer - PRICE);
    expect(providerCalls()).toBe(before.provider + 1);
  });

  it('speaks x402 v1 to a v1 client: v1 requirements, X-PAYMENT in, X-PAYMENT-RESPONSE out', async () => {
    const probe = await callTool({ 'X-PAYMENT': toHeader({ x402Version: 1, scheme: 'exact', network: 'base-sepolia', payload: {} }) });
    expect(probe.status).toBe(402);
    expect(probe.body).toMatchObject({ x402Version: 1, error: 'invalid_payload' });
    const requirement = probe.body.accepts[0];
    expect(requirement).toMatchObject({ scheme: 'exact', network: 'base-sepolia', maxAmountRequired: '200000', payTo: PAY_TO, resource: `${server.url}/api/tools/${SERVICE}` });
    const payload = await payer.payV1(requirement);
    const answer = await callTool({ 'X-PAYMENT': toHeader(payload) });
    expect(answer.status).toBe(200);
    expect(decodePaymentResponseHeader(answer.headers.get('x-payment-response')!)).toMatchObject({ success: true, payer: payer.address });
  });

  it('refuses every broken rule with its own reason, before any provider or facilitator call, and charges nothing', async () => {
    const paymentRequired = await unpaidRequirements();
    const requirement = paymentRequired.accepts[0];
    // The authorization breaks one rule while the payload claims to pay the offered requirement.
    const bent = (change: Partial<PaymentRequirements>) => payer.payExactly({ ...requirement, ...change }, paymentRequired, requirement);
    const claimsOther = (change: Partial<PaymentRequirements>) => payer.payExactly({ ...requirement, ...change }, paymentRequired);
    const relabelled = async () => {
      const genuine = await payer.pay(paymentRequired);
      return { ...genuine, accepted: { ...genuine.accepted, amount: '1' } };
    };
    const forged = async () => {
      const genuine = await payer.pay(paymentRequired);
      const impostor = await createPayer().payExactly(requirement, paymentRequired);
      return { ...genuine, payload: { ...genuine.payload, signature: impostor.payload.signature } };
    };
    const notYetValid = async () => {
      // The official v1 client signs validAfter = now - 10 minutes: an hour-fast clock puts it 50 minutes ahead.
      vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + 3_600_000 });
      try {
        return await payer.payV1({ ...requirement, network: 'base-sepolia', maxAmountRequired: requirement.amount, resource: paymentRequired.resource.url });
      } finally {
        vi.useRealTimers();
      }
    };
    const cases: Array<[string, () => Promise<unknown>, string]> = [
      ['forged signature', forged, 'invalid_exact_evm_signature'],
      ['wrong payTo', () => bent({ payTo: new Wallet(Wallet.createRandom().privateKey).address }), 'invalid_exact_evm_recipient_mismatch'],
      ['underpaid', () => bent({ amount: '199999' }), 'invalid_exact_evm_payload_authorization_value_mismatch'],
      ['overpaid', () => bent({ amount: '200001' }), 'invalid_exact_evm_payload_authorization_value_mismatch'],
      ['expired', () => bent({ maxTimeoutSeconds: 3 }), 'invalid_exact_evm_payload_authorization_valid_before'],
      ['not yet valid', notYetValid, 'invalid_exact_evm_payload_authorization_valid_after'],
      ['wrong network', () => bent({ network: 'eip155:8453' }), 'invalid_exact_evm_signature'],
      ['claims another network', () => claimsOther({ network: 'eip155:8453' }), 'invalid_accepted_requirements_mismatch'],
      ['claims another scheme', () => claimsOther({ scheme: 'upto' }), 'invalid_accepted_requirements_mismatch'],
      ['claims another amount', () => claimsOther({ amount: '1' }), 'invalid_accepted_requirements_mismatch'],
      ['claims another asset', () => claimsOther({ asset: new Wallet(Wallet.createRandom().privateKey).address }), 'invalid_accepted_requirements_mismatch'],
      ['signed for the offer, relabelled as another', relabelled, 'invalid_accepted_requirements_mismatch'],
      ['unreadable payload', async () => 'bm90IGEgcGF5bWVudA==', 'invalid_payload'],
    ];
    for (const [rule, build, reason] of cases) {
      const payload = await build();
      const header = typeof payload === 'string' ? payload : toHeader(payload);
      const name = (payload as { x402Version?: number }).x402Version === 1 ? 'X-PAYMENT' : 'PAYMENT-SIGNATURE';
      const before = snapshot();
      const verifications = facilitator.calls.verify;
      const answer = await callTool({ [name]: header });
      expect(answer.status, rule).toBe(402);
      expect(answer.body.error, rule).toBe(reason);
      expect(decodePaymentRequiredHeader(answer.headers.get('payment-required')!).error, rule).toBe(reason);
      expect(answer.body.charged, rule).toBe(false);
      expect(snapshot(), rule).toEqual(before);
      expect(facilitator.calls.verify, rule).toBe(verifications);
    }
  });

  it('accepts an authorization once, ever: a replay is refused without a provider call', async () => {
    const header = encodePaymentSignatureHeader(await payer.pay(await unpaidRequirements()));
    expect((await callTool({ 'PAYMENT-SIGNATURE': header })).status).toBe(200);
    const before = snapshot();
    const replay = await callTool({ 'PAYMENT-SIGNATURE': header });
    expect(replay.status).toBe(402);
    expect(replay.body.error).toBe('invalid_exact_evm_nonce_already_used');
    expect(snapshot()).toEqual(before);
  });

  it('passes on the facilitator\'s refusal (insufficient balance), and accepts the same payment once funded', async () => {
    const poor = createPayer();
    const header = encodePaymentSignatureHeader(await poor.pay(await unpaidRequirements()));
    const before = snapshot();
    const refused = await callTool({ 'PAYMENT-SIGNATURE': header });
    expect(refused.status).toBe(402);
    expect(refused.body.error).toBe('invalid_exact_evm_insufficient_balance');
    expect(snapshot()).toEqual(before);
    facilitator.fund(poor.address, PRICE);
    expect((await callTool({ 'PAYMENT-SIGNATURE': header })).status).toBe(200);
    expect(facilitator.balanceOf(poor.address)).toBe(0n);
  });

  it('says facilitator_unavailable, retryable, when the facilitator is down, and charges nothing', async () => {
    const header = encodePaymentSignatureHeader(await payer.pay(await unpaidRequirements()));
    facilitator.failNext('verify', { httpStatus: 503 });
    const before = snapshot();
    const answer = await callTool({ 'PAYMENT-SIGNATURE': header });
    expect(answer.status).toBe(402);
    expect(answer.body).toMatchObject({ error: 'facilitator_unavailable', retryable: true, charged: false });
    expect(snapshot()).toEqual(before);
  });

  it('withholds the result and charges nothing when settlement fails after the call', async () => {
    const header = encodePaymentSignatureHeader(await payer.pay(await unpaidRequirements()));
    facilitator.failNext('settle', { reason: 'invalid_exact_evm_transaction_failed' });
    const before = snapshot();
    const answer = await callTool({ 'PAYMENT-SIGNATURE': header });
    expect(answer.status).toBe(402);
    expect(answer.body).toMatchObject({ error: 'settlement_failed', charged: false });
    expect(answer.body.message).toContain('invalid_exact_evm_transaction_failed');
    expect(providerCalls()).toBe(before.provider + 1);
    expect(facilitator.settlements.length).toBe(before.settlements);
    expect(facilitator.balanceOf(payer.address)).toBe(before.payer);
  });

  it('settles nothing when the provider fails or throttles after payment', async () => {
    const faults: Array<[string, () => void, number, string]> = [
      ['provider error', () => emulator.injectFault({ action: 'SegmentCommodity', code: 'InternalError', httpStatus: 500, times: 10 }), 502, 'UPSTREAM_ERROR'],
      ['throttling', () => emulator.injectFault({ action: 'SegmentCommodity', code: 'Throttling.User', httpStatus: 400, times: 10 }), 429, 'UPSTREAM_THROTTLED'],
    ];
    for (const [fault, inject, status, code] of faults) {
      const header = encodePaymentSignatureHeader(await payer.pay(await unpaidRequirements()));
      emulator.clearFaults();
      inject();
      const before = snapshot();
      const settles = facilitator.calls.settle;
      const answer = await callTool({ 'PAYMENT-SIGNATURE': header });
      expect(answer.status, fault).toBe(status);
      expect(answer.body.error, fault).toMatchObject({ code, details: { charged: false } });
      expect(answer.headers.get('payment-response'), fault).toBeNull();
      expect(facilitator.calls.settle, fault).toBe(settles);
      expect(facilitator.balanceOf(payer.address), fault).toBe(before.payer);
    }
  });
});

describe('payment tokens', () => {
  it('sells a payment token at POST /api/payments and spends it on exactly one call', async () => {
    const unpaid = await request('POST', '/api/payments', { serviceId: SERVICE });
    expect(unpaid.status).toBe(402);
    const offer = decodePaymentRequiredHeader(unpaid.headers.get('payment-required')!);
    expect(offer.resource.url).toBe(`${server.url}/api/payments`);
    expect(offer.accepts[0].amount).toBe('200000');

    const before = snapshot();
    const bought = await request('POST', '/api/payments', { serviceId: SERVICE }, { 'PAYMENT-SIGNATURE': encodePaymentSignatureHeader(await payer.pay(offer)) });
    expect(bought.status).toBe(201);
    expect(bought.body).toMatchObject({ serviceId: SERVICE, callsRemaining: 1 });
    expect(bought.body.paymentToken).toMatch(/^imgseg_[A-Za-z0-9_-]{43}$/);
    expect(Date.parse(bought.body.expiresAt)).toBeGreaterThan(Date.now());
    expect(decodePaymentResponseHeader(bought.headers.get('payment-response')!).success).toBe(true);
    expect(facilitator.balanceOf(PAY_TO)).toBe(before.payTo + PRICE);
    expect(providerCalls()).toBe(before.provider);

    const token = bought.body.paymentToken as string;
    expect((await request('GET', `/api/payments/${token}`)).body).toMatchObject({ serviceId: SERVICE, callsRemaining: 1, callsUsed: 0 });
    const used = await callTool({ 'X-Payment-Token': token });
    expect(used.status).toBe(200);
    expect(used.headers.get('payment-response')).toBeNull();
    expect((await request('GET', `/api/payments/${token}`)).body).toMatchObject({ callsRemaining: 0, callsUsed: 1 });

    const again = await callTool({ 'X-Payment-Token': token });
    expect(again.status).toBe(402);
    expect(again.body.error).toBe('payment_token_exhausted');
    expect(providerCalls()).toBe(before.provider + 1);
  });

  it('refuses a token for another service, a revoked, an unknown and an exhausted one, without a provider call', async () => {
    const other = await mint('mask-refinement');
    const revoked = await mint();
    expect((await request('DELETE', `/api/admin/tokens/${revoked}`, undefined, admin)).body).toMatchObject({ revoked: true });
    const exhausted = await mint();
    expect((await callTool({ 'X-Payment-Token': exhausted })).status).toBe(200);
    const cases: Array<[string, string]> = [
      [other, 'payment_token_wrong_service'],
      [revoked, 'payment_token_revoked'],
      ['imgseg_' + 'x'.repeat(43), 'payment_token_unknown'],
      ['not-a-token', 'payment_token_unknown'],
      [exhausted, 'payment_token_exhausted'],
    ];
    for (const [token, reason] of cases) {
      const before = providerCalls();
      const answer = await callTool({ 'X-Payment-Token': token });
      expect(answer.status, reason).toBe(402);
      expect(answer.body, reason).toMatchObject({ error: reason, charged: false, x402Version: 2 });
      expect(providerCalls(), reason).toBe(before);
    }
    expect((await request('GET', `/api/payments/${other}`)).body).toMatchObject({ serviceId: 'mask-refinement', callsRemaining: 1, callsUsed: 0 });
  });

  it('refuses an expired token', async () => {
    const minted = await request('POST', '/api/admin/tokens', { serviceId: SERVICE, expires: '0.2s' }, admin);
    await new Promise((resolve) => setTimeout(resolve, 250));
    const answer = await callTool({ 'X-Payment-Token': minted.body.paymentToken });
    expect(answer.body.error).toBe('payment_token_expired');
  });

  it('guards the operator endpoints with the ADMIN_TOKEN bearer', async () => {
    expect((await request('POST', '/api/admin/tokens', { serviceId: SERVICE })).status).toBe(401);
    expect((await request('POST', '/api/admin/tokens', { serviceId: SERVICE }, { authorization: 'Bearer wrong' })).status).toBe(401);
    expect((await request('DELETE', `/api/admin/tokens/imgseg_${'a'.repeat(43)}`, undefined, { authorization: 'Bearer wrong' })).status).toBe(401);
    const minted = await request('POST', '/api/admin/tokens', { serviceId: SERVICE, calls: 3, expires: '30d' }, admin);
    expect(minted.status).toBe(201);
    expect(minted.body).toMatchObject({ serviceId: SERVICE, callsRemaining: 3 });
    expect((await request('POST', '/api/admin/tokens', { serviceId: 'async-job-result' }, admin)).status).toBe(400);
    expect((await request('GET', '/api/payments/imgseg_unknown')).status).toBe(404);
  });

  it('releases the token use when the provider fails, is throttled, or the image is refused', async () => {
    const token = await mint();
    const faults: Array<[string, () => void, unknown, number]> = [
      ['provider error', () => emulator.injectFault({ action: 'SegmentCommodity', code: 'InternalError', httpStatus: 500, times: 10 }), { ImageURL: imageUrl }, 502],
      ['throttling', () => emulator.injectFault({ action: 'SegmentCommodity', code: 'Throttling.User', httpStatus: 400, times: 10 }), { ImageURL: imageUrl }, 429],
      ['oversized image', () => undefined, { ImageURL: `data:image/png;base64,${Buffer.alloc(3 * 1024 * 1024 + 10, 7).toString('base64')}` }, 413],
    ];
    for (const [fault, inject, body, status] of faults) {
      emulator.clearFaults();
      inject();
      const answer = await callTool({ 'X-Payment-Token': token }, body);
      expect(answer.status, fault).toBe(status);
      expect(answer.body.error.details.charged, fault).toBe(false);
      expect((await request('GET', `/api/payments/${token}`)).body, fault).toMatchObject({ callsRemaining: 1, callsUsed: 0, callsInProgress: 0 });
    }
    emulator.clearFaults();
    expect((await callTool({ 'X-Payment-Token': token })).status).toBe(200);
    expect((await request('GET', `/api/payments/${token}`)).body).toMatchObject({ callsRemaining: 0, callsUsed: 1 });
  });

  it('keeps a timed-out job paid for: async_job_result by its payer delivers it and charges exactly once, anyone else gets 404', async () => {
    const impatient = await startTestServer(paidEnvironment({ IMAGESEG_JOB_DEADLINE_SECONDS: '0.1' }), { jobPollingMs: 30 });
    const job = { ImageUrl: imageUrl };
    const tokenState = async (token: string) => (await request('GET', `/api/payments/${token}`, undefined, {}, impatient.url)).body;
    const resume = (headers: Record<string, string>, jobId: string) => callTool(headers, { JobId: jobId }, 'async-job-result', impatient.url);
    const untilDone = async (headers: Record<string, string>, jobId: string) => {
      for (let attempt = 0; attempt < 60; attempt++) {
        const answer = await resume(headers, jobId);
        if (answer.status !== 200 || answer.body.data.Status === 'PROCESS_SUCCESS') return answer;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      throw new Error(`job ${jobId} did not finish`);
    };
    try {
      const token = await mint('hd-general-segmentation', 1, impatient.url);
      const answer = await callTool({ 'X-Payment-Token': token }, job, 'hd-general-segmentation', impatient.url);
      expect(answer.status).toBe(504);
      expect(answer.body.error).toMatchObject({ code: 'JOB_TIMEOUT', details: { charged: false, payment: 'held', jobId: expect.any(String) } });
      const jobId = answer.body.error.details.jobId as string;
      // Held for the job, not spent: the use cannot pay for another call meanwhile.
      expect(await tokenState(token)).toMatchObject({ callsRemaining: 0, callsUsed: 0, callsInProgress: 1 });

      const stranger = await mint('hd-general-segmentation', 1, impatient.url);
      for (const headers of [{}, { 'X-Payment-Token': stranger }] as Array<Record<string, string>>) {
        const refused = await resume(headers, jobId);
        expect(refused.status).toBe(404);
        expect(refused.body.error.code).toBe('NOT_FOUND');
      }
      expect((await resume({ 'X-Payment-Token': token }, 'job-this-server-never-started')).status).toBe(404);

      const delivered = await untilDone({ 'X-Payment-Token': token }, jobId);
      expect(delivered.status).toBe(200);
      expect(delivered.body.data.ImageUrl).toMatch(/^http/);
      expect(await tokenState(token)).toMatchObject({ callsRemaining: 0, callsUsed: 1, callsInProgress: 0 });
      expect((await resume({ 'X-Payment-Token': token }, jobId)).status).toBe(200);
      expect(await tokenState(token)).toMatchObject({ callsUsed: 1, callsInProgress: 0 });

      const unpaid = await callTool({}, job, 'hd-general-segmentation', impatient.url);
      const payload = await payer.pay(decodePaymentRequiredHeader(unpaid.headers.get('payment-required')!));
      const settles = facilitator.calls.settle;
      const balance = facilitator.balanceOf(payer.address);
      const paymentHeader = { 'PAYMENT-SIGNATURE': encodePaymentSignatureHeader(payload) };
      const paid = await callTool(paymentHeader, job, 'hd-general-segmentation', impatient.url);
      expect(paid.status).toBe(504);
      expect(paid.body.error.details.charged).toBe(false);
      expect(facilitator.calls.settle).toBe(settles);
      const x402Job = paid.body.error.details.jobId as string;
      expect(paid.body.error.details).toMatchObject({ payment: 'held', jobId: x402Job });
      expect((await resume({}, x402Job)).status).toBe(404);
      // The payload that paid is settled (public on-chain) once the job is delivered: proof of who asks is a payload never shown before.
      const stale = await resume(paymentHeader, x402Job);
      expect(stale.status).toBe(401);
      expect(stale.body.error).toMatchObject({ code: 'UNAUTHORIZED', details: { reason: 'invalid_exact_evm_nonce_already_used', payment: 'none', charged: false } });
      const fresh = async () => ({ 'PAYMENT-SIGNATURE': encodePaymentSignatureHeader(await payer.pay(decodePaymentRequiredHeader(unpaid.headers.get('payment-required')!))) });
      expect((await untilDone(await fresh(), x402Job)).status).toBe(200);
      expect(facilitator.calls.settle).toBe(settles + 1);
      expect(facilitator.balanceOf(payer.address)).toBe(balance - 200_000n);
      expect((await untilDone(await fresh(), x402Job)).status).toBe(200);
      expect(facilitator.calls.settle).toBe(settles + 1);
    } finally {
      await impatient.close();
    }
  });

  it('gives the held use back when a timed-out job fails upstream', async () => {
    const impatient = await startTestServer(paidEnvironment({ IMAGESEG_JOB_DEADLINE_SECONDS: '0.1' }), { jobPollingMs: 30 });
    try {
      const token = await mint('hd-general-segmentation', 1, impatient.url);
      emulator.failNextJob();
      const answer = await callTool({ 'X-Payment-Token': token }, { ImageUrl: imageUrl }, 'hd-general-segmentation', impatient.url);
      expect(answer.status).toBe(504);
      const jobId = answer.body.error.details.jobId as string;
      let status = '';
      for (let attempt = 0; attempt < 60 && status !== 'PROCESS_FAILED'; attempt++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        status = (await callTool({ 'X-Payment-Token': token }, { JobId: jobId }, 'async-job-result', impatient.url)).body.data.Status;
      }
      expect(status).toBe('PROCESS_FAILED');
      expect((await request('GET', `/api/payments/${token}`, undefined, {}, impatient.url)).body).toMatchObject({ callsRemaining: 1, callsUsed: 0, callsInProgress: 0 });
    } finally {
      await impatient.close();
    }
  });
});

describe('never twice', () => {
  it('runs exactly one of 100 parallel calls on a one-call token', async () => {
    const token = await mint();
    const before = providerCalls();
    const started = performance.now();
    const answers = await Promise.all(Array.from({ length: 100 }, () => callTool({ 'X-Payment-Token': token })));
    const elapsed = Math.round(performance.now() - started);
    const statuses = answers.map((answer) => answer.status);
    const reasons = answers.filter((answer) => answer.status === 402).map((answer) => answer.body.error as string);
    expect(statuses.filter((status) => status === 200)).toHaveLength(1);
    expect(statuses.filter((status) => status === 402)).toHaveLength(99);
    expect(new Set(reasons)).toSatisfy((set: Set<string>) => [...set].every((reason) => ['payment_token_in_use', 'payment_token_exhausted'].includes(reason)));
    expect(providerCalls()).toBe(before + 1);
    expect((await request('GET', `/api/payments/${token}`)).body).toMatchObject({ callsUsed: 1, callsRemaining: 0, callsInProgress: 0 });
    console.info(
      `100 parallel calls on a one-call token: 1 success, ${reasons.filter((reason) => reason === 'payment_token_in_use').length} in_use + ` +
        `${reasons.filter((reason) => reason === 'payment_token_exhausted').length} exhausted refusals, 1 provider call, ${elapsed} ms`,
    );
  });

  it('settles exactly one of 50 parallel replays of one x402 payload', async () => {
    const header = encodePaymentSignatureHeader(await payer.pay(await unpaidRequirements()));
    const before = snapshot();
    const verifications = facilitator.calls.verify;
    const started = performance.now();
    const answers = await Promise.all(Array.from({ length: 50 }, () => callTool({ 'PAYMENT-SIGNATURE': header })));
    const elapsed = Math.round(performance.now() - started);
    expect(answers.filter((answer) => answer.status === 200)).toHaveLength(1);
    const refused = answers.filter((answer) => answer.status === 402);
    expect(refused).toHaveLength(49);
    expect(refused.every((answer) => answer.body.error === 'invalid_exact_evm_nonce_already_used')).toBe(true);
    expect(facilitator.settlements.length).toBe(before.settlements + 1);
    expect(facilitator.calls.verify).toBe(verifications + 1);
    expect(facilitator.balanceOf(payer.address)).toBe(before.payer - PRICE);
    expect(providerCalls()).toBe(before.provider + 1);
    console.info(`50 parallel replays of one x402 payload: 1 success, 49 nonce refusals, 1 facilitator verify, 1 settlement, 1 provider call, ${elapsed} ms`);
  });
});

