// Who pays, in one place: the credentials a request presents (headers, MCP arguments and `_meta`), and who they
// prove the caller is.
import { decodePayment, isRefusal } from './payload.js';
import { chainIdOf } from './networks.js';
import { REASON, refuse, type PaymentRefusal } from './reasons.js';
import type { X402Offer } from './requirements.js';
import type { LedgerStore } from './store.js';
import { hashToken } from './tokens.js';
import type { IdentityOptions, PaymentCredentials } from './types.js';
import { signatureRefusal } from './verify.js';

/**
 * Who presents these credentials, as one key per payer: `token:<sha256 of the token>` (a token wins when both are
 * presented, as the gate decides), `x402:<address>` once the payload's EIP-3009 signature recovers to that address,
 * undefined when nothing was presented, or the refusal saying why the payload proves nobody.
 */
export type Identify = (credentials: PaymentCredentials, options?: IdentityOptions) => Promise<string | PaymentRefusal | undefined>;

export const presentsX402 = (credentials: PaymentCredentials): boolean => credentials.x402 !== undefined && credentials.x402 !== null && credentials.x402 !== '';

/** An HTTP request's headers, by case-insensitive name. */
export type HeaderReader = (name: string) => string | undefined;

/** What an HTTP request presents to pay: `X-Payment-Token`, or x402 (v2 `PAYMENT-SIGNATURE`, v1 `X-PAYMENT`). */
export function credentialsFromHeaders(header: HeaderReader): PaymentCredentials {
  return { token: header('x-payment-token') || undefined, x402: header('payment-signature') || header('x-payment') || undefined };
}

/** Which x402 version an HTTP caller speaks, so its receipt comes back in the header it reads. */
export const x402VersionOfHeaders = (header: HeaderReader): 1 | 2 => (header('payment-signature') ? 2 : 1);

/**
 * What an MCP tool call presents: the `paymentToken` argument (else the request's X-Payment-Token header over HTTP)
 * and an x402 PaymentPayload in `_meta["x402/payment"]` (the tool-result binding) or
 * `_meta["org.x402/payment"].paymentPayload` (the extension binding of MCP 2026-07-28).
 */
export function credentialsFromMcp(paymentToken: unknown, meta: Record<string, unknown> | undefined, headerToken?: string): PaymentCredentials {
  const extension = meta?.['org.x402/payment'] as { paymentPayload?: unknown } | undefined;
  return { token: typeof paymentToken === 'string' && paymentToken ? paymentToken : headerToken, x402: meta?.['x402/payment'] ?? extension?.paymentPayload };
}

export function createIdentify(dependencies: { offer: X402Offer; store: () => Promise<LedgerStore>; now: () => number }): Identify {
  const { offer, store, now } = dependencies;
  const chainId = chainIdOf(offer.network);
  const domain = { name: offer.assetName, version: offer.assetVersion, chainId: chainId ?? 0, verifyingContract: offer.asset };

  return async (credentials, options = {}) => {
    const token = typeof credentials.token === 'string' ? credentials.token.trim() : '';
    if (token) return `token:${hashToken(token)}`;
    if (!presentsX402(credentials)) return undefined;
    const payment = decodePayment(credentials.x402);
    if (isRefusal(payment)) return payment;
    if (chainIdOf(payment.network) !== chainId) return refuse(REASON.network, `Network ${payment.network} is not this server's ${offer.network}`);
    const forged = await signatureRefusal(payment, domain);
    if (forged) return forged;
    const { from, nonce, validBefore } = payment.authorization;
    if (options.fresh) {
      if (BigInt(validBefore) <= BigInt(Math.floor(now() / 1000))) {
        return refuse(REASON.validBefore, `The authorization expired (validBefore ${validBefore}); sign a new one to show who you are`);
      }
      const key = { network: offer.network, asset: offer.asset.toLowerCase(), payer: from.toLowerCase(), nonce: nonce.toLowerCase() };
      if (await (await store()).nonceSeen(key)) {
        return refuse(REASON.nonceUsed, 'this authorization was presented before (once settled, it is public); sign a new one to show who you are: it is not charged');
      }
    }
    return `x402:${from.toLowerCase()}`;
  };
}
