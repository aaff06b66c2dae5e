/**
 * Row 3: x402 payment verifications per second on one core: the payment gate accepting a signed x402 v2
 * payment (decode, every rule of the exact scheme, EIP-712 signature recovery, nonce claimed in the SQLite
 * ledger), called one after another on this process's main thread. The facilitator is a stub that says yes at
 * once: its network round trip is not ours. Payloads come from the official @x402/evm client (test/support), one
 * fresh nonce each. Baseline: ethers' verifyTypedData alone over the same payloads (the signature recovery every
 * verifier must do, and what the gate used before). The note also gives our own signature check alone
 * (libsecp256k1 in WebAssembly): what the rules and the ledger add on top of it.
 */
import path from 'node:path';
import { verifyTypedData } from 'ethers';
import type { PaymentPayload, PaymentRequired } from '@x402/core/types';
import type { ExactAuthorization } from '../../src/payments/payload.js';
import { PaymentRequiredError } from '../../src/payments/index.js';
import type { Facilitator } from '../../src/payments/index.js';
import { TRANSFER_WITH_AUTHORIZATION_TYPES, recoverAuthorizationSigner } from '../../src/payments/authorization-signer.js';
import { createCatalog } from '../../src/catalog/lookup.js';
import { capabilities } from '../../tools/index.js';
import { createPayer } from '../../test/support/payments.js';
import { SETTINGS } from '../settings.js';
import { openPayments } from '../lib/ledger.js';
import { median } from '../lib/stats.js';
import type { RowResult } from '../lib/report.js';

const SERVICE = 'product-background-removal';
const PAY_TO = '0x2222222222222222222222222222222222222222';
/** This row's ratio before the gate recovered signers with libsecp256k1: main 644839c, 2026-12-02, median of 5 runs (0.65–1.18). */
const BEFORE_RATIO = 0.85;

const agreeingFacilitator: Facilitator = {
  url: 'stub:facilitator',
  verify: async () => undefined,
  settle: async () => ({ settlement: { success: true, transaction: '0x0', network: 'eip155:84532' } as never }),
  supported: async () => ({ kinds: [], extensions: [], signers: {} }),
};

export async function measureX402Verification(workDirectory: string): Promise<RowResult[]> {
  const { warmup, runs, perRun } = SETTINGS.verification;
  const payments = openPayments(path.join(workDirectory, 'x402', 'ledger.db'), { X402_PAY_TO: PAY_TO }, { facilitator: agreeingFacilitator });
  const capability = createCatalog(capabilities).find(SERVICE)!;
  try {
    const paymentRequired = await payments.gate.reserve(capability, {}).then(
      () => {
        throw new Error(`${SERVICE} answered an unpaid call`);
      },
      (error: unknown) => {
        if (!(error instanceof PaymentRequiredError) || error.code !== 'PAYMENT_REQUIRED') throw error;
        return error.paymentRequired as PaymentRequired;
      },
    );
    const requirement = paymentRequired.accepts[0];
    const payer = createPayer();
    const payloads: PaymentPayload[] = [];
    for (let index = 0; index < warmup + runs * perRun; index += 1) payloads.push(await payer.pay(paymentRequired));

    const accept = async (payload: PaymentPayload) => {
      await payments.gate.reserve(capability, { x402: payload });
    };
    const domain = { name: String(requirement.extra.name), version: String(requirement.extra.version), chainId: Number(requirement.network.split(':')[1]), verifyingContract: requirement.asset };
    const signed = (payload: PaymentPayload) => payload.payload as { authorization: ExactAuthorization; signature: string };
    const recover = async (payload: PaymentPayload) => {
      const { authorization, signature } = signed(payload);
      if (verifyTypedData(domain, TRANSFER_WITH_AUTHORIZATION_TYPES, authorization, signature).toLowerCase() !== payer.address.toLowerCase()) throw new Error('baseline recovered another signer');
    };
    const check = async (payload: PaymentPayload) => {
      const { authorization, signature } = signed(payload);
      if (recoverAuthorizationSigner(domain, authorization, signature) !== payer.address.toLowerCase()) throw new Error('our signature check recovered another signer');
    };

    // The baseline only reads, so it may see the same payloads again; ours claims each nonce once.
    for (const payload of payloads.slice(0, warmup)) {
      await accept(payload);
      await recover(payload);
      await check(payload);
    }
    const ours: number[] = [];
    const baseline: number[] = [];
    const signatureCheck: number[] = [];
    const measures: Array<[(payload: PaymentPayload) => Promise<void>, number[]]> = [
      [accept, ours],
      [recover, baseline],
      [check, signatureCheck],
    ];
    for (let run = 0; run < runs; run += 1) {
      const batch = payloads.slice(warmup + run * perRun, warmup + (run + 1) * perRun);
      for (const [measure, into] of run % 2 === 0 ? measures : [...measures].reverse()) {
        const started = performance.now();
        for (const payload of batch) await measure(payload);
        into.push(batch.length / ((performance.now() - started) / 1000));
      }
    }
    const rate = median(ours);
    const signatureOnly = median(baseline);
    return [
      {
        row: '3',
        metric: 'x402 verifications/s, one core (rules + signature + ledger)',
        ours: rate,
        unit: '/s',
        baseline: { label: 'ethers verifyTypedData alone', value: signatureOnly },
        ratio: rate / signatureOnly,
        target: { text: '≥ 2,000/s', met: rate >= 2000 },
        note: `${runs} runs × ${perRun} payments after ${warmup} warm-up; facilitator stubbed; our signature check alone (EIP-712 digest + libsecp256k1 WASM) ~${Math.round(median(signatureCheck))}/s; before (the gate on ethers verifyTypedData, 2026-12-02): ${BEFORE_RATIO}× ethers`,
      },
    ];
  } finally {
    await payments.close();
  }
}
