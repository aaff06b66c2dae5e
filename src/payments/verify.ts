import type { PaymentRequirements } from '@x402/core/types';
import { chainIdOf } from './networks.js';
import type { DecodedPayment } from './payload.js';
import { REASON, refuse, type PaymentRefusal } from './reasons.js';

type SignerModule = typeof import('./authorization-signer.js');
let signerModule: SignerModule | undefined;

/** The signature code (WebAssembly, ethers' encoders) is loaded on the first x402 payment, which keeps start-up (stdio) fast. */
async function loadSigner(): Promise<SignerModule> {
  signerModule ??= await import('./authorization-signer.js');
  return signerModule;
}

/** An authorization must stay valid this long after verification, as the official facilitator requires. */
const VALID_BEFORE_MARGIN_SECONDS = 6n;

const sameAddress = (left: string, right: string) => left.toLowerCase() === right.toLowerCase();

export interface AssetDomain {
  name: string;
  version: string;
  chainId: number;
  verifyingContract: string;
}

/** Whether the EIP-3009 signature recovers to the authorization's `from`: the one proof of who an x402 payer is. */
export async function signatureRefusal(payment: DecodedPayment, domain: AssetDomain): Promise<PaymentRefusal | undefined> {
  const { authorization } = payment;
  const signer = (await loadSigner()).recoverAuthorizationSigner(domain, authorization, payment.signature);
  if (signer && sameAddress(signer, authorization.from)) return undefined;
  return refuse(REASON.signature, `The signature does not recover the payer ${authorization.from} (EIP-712 domain ${domain.name} v${domain.version}, chain ${domain.chainId}, contract ${domain.verifyingContract})`);
}

/**
 * Checks an x402 "exact" EVM payment against the requirement this server offered, rule by rule (the order of
 * the x402 spec): scheme and network, EIP-712 signature by `from`, recipient, exact value, validity window.
 * Returns undefined when every rule holds. Whether the nonce was seen before is the ledger's question.
 */
export async function verifyExactPayment(payment: DecodedPayment, requirement: PaymentRequirements, nowSeconds: number): Promise<PaymentRefusal | undefined> {
  if (payment.scheme !== requirement.scheme) {
    return refuse(REASON.scheme, `Scheme "${payment.scheme}" is not offered; pay with "${requirement.scheme}"`);
  }
  const chainId = chainIdOf(requirement.network);
  const paidChainId = chainIdOf(payment.network);
  if (chainId === undefined || paidChainId !== chainId) {
    return refuse(REASON.network, `Network ${payment.network} does not match the offered ${requirement.network}`);
  }
  const { authorization } = payment;
  const { name, version } = requirement.extra as { name: string; version: string };
  const forged = await signatureRefusal(payment, { name, version, chainId, verifyingContract: requirement.asset });
  if (forged) return forged;
  if (!sameAddress(authorization.to, requirement.payTo)) {
    return refuse(REASON.recipient, `The authorization pays ${authorization.to}, not ${requirement.payTo}`);
  }
  const value = BigInt(authorization.value);
  const amount = BigInt(requirement.amount);
  if (value !== amount) {
    const how = value < amount ? 'underpaid' : 'overpaid';
    return refuse(REASON.value, `${how}: the authorization moves ${value} atomic units; the price is exactly ${amount}`, { facts: { paid: authorization.value, price: requirement.amount } });
  }
  const now = BigInt(nowSeconds);
  if (BigInt(authorization.validAfter) > now) {
    return refuse(REASON.validAfter, `The authorization is not valid before ${authorization.validAfter} (now ${now})`);
  }
  if (BigInt(authorization.validBefore) < now + VALID_BEFORE_MARGIN_SECONDS) {
    return refuse(REASON.validBefore, `The authorization expired or expires within ${VALID_BEFORE_MARGIN_SECONDS} s (validBefore ${authorization.validBefore}, now ${now})`);
  }
  return undefined;
}
