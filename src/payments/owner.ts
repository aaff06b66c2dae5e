import { createHash } from 'node:crypto';
import { decodePayment, isRefusal } from './payload.js';
import { hashToken } from './tokens.js';
import type { PaymentCredentials } from './types.js';


/**
 * Who a credential proves the caller is, as stored beside what it paid for: `token:<sha256 of the token>`, or
 * `x402:<sha256 of the authorization's signature>` (the client proves it again by presenting the same payment).
 * Only hashes are kept, so a database reader cannot replay a token.
 */
export function credentialOwners(credentials: PaymentCredentials): string[] {
  const owners: string[] = [];
  const token = typeof credentials.token === 'string' ? credentials.token.trim() : '';
  if (token) owners.push(`token:${hashToken(token)}`);
  if (credentials.x402 !== undefined && credentials.x402 !== null && credentials.x402 !== '') {
    const decoded = decodePayment(credentials.x402);
    if (!isRefusal(decoded)) owners.push(`x402:${createHash('sha256').update(decoded.signature.toLowerCase()).digest('hex')}`);
  }
  return owners;
}

/**
 * Who pays, as one key per payer rather than per payment: `token:<sha256 of the token>` or `x402:<payer address>`,
 * so that an x402 retry signed anew (x402's payment-identifier) is still the same payer. It scopes idempotency keys
 * and says whose timed-out job async_job_result may resume.
 */
export function payerOf(credentials: PaymentCredentials): string | undefined {
  const token = typeof credentials.token === 'string' ? credentials.token.trim() : '';
  if (token) return `token:${hashToken(token)}`;
  if (credentials.x402 === undefined || credentials.x402 === null || credentials.x402 === '') return undefined;
  const decoded = decodePayment(credentials.x402);
  return isRefusal(decoded) ? undefined : `x402:${decoded.authorization.from.toLowerCase()}`;
}

/** The credential a call is paid with: the token when both are presented, as the gate decides. */
export const payingOwner = (credentials: PaymentCredentials): string | undefined => credentialOwners(credentials)[0];
