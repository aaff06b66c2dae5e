import type { PaymentPayload, PaymentPayloadV1 } from '@x402/core/types';
import { extractPaymentIdentifier } from '@x402/extensions/payment-identifier';
import { REASON, refuse, type PaymentRefusal } from './reasons.js';

/** EIP-3009 TransferWithAuthorization, as the x402 "exact" EVM scheme carries it (all numbers as decimal strings). */
export interface ExactAuthorization {
  from: string;
  to: string;
  value: string;
  validAfter: string;
  validBefore: string;
  nonce: string;
}

/** A presented x402 payment, decoded and checked for shape (not yet for validity). */
export interface DecodedPayment {
  version: 1 | 2;
  scheme: string;
  network: string;
  authorization: ExactAuthorization;
  signature: string;
  /** The payload as received: what the facilitator verifies and settles. */
  raw: PaymentPayload | PaymentPayloadV1;
}

const ADDRESS = /^0x[0-9a-fA-F]{40}$/;
const NONCE = /^0x[0-9a-fA-F]{64}$/;
const SIGNATURE = /^0x[0-9a-fA-F]+$/;
const UINT = /^\d{1,78}$/;

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** A header carries base64 JSON; MCP `_meta` carries the object itself. */
function parsePresented(presented: unknown): Record<string, unknown> | undefined {
  if (isRecord(presented)) return presented;
  if (typeof presented !== 'string') return undefined;
  const text = presented.trim();
  try {
    const json = text.startsWith('{') ? text : Buffer.from(text, 'base64').toString('utf8');
    const value: unknown = JSON.parse(json);
    return isRecord(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/** Which x402 version a caller speaks, judged from what it presented (v2 when nothing tells). */
export function presentedVersion(presented: unknown): 1 | 2 {
  return parsePresented(presented)?.x402Version === 1 ? 1 : 2;
}

function authorizationOf(payload: unknown): ExactAuthorization | undefined {
  if (!isRecord(payload) || !isRecord(payload.authorization)) return undefined;
  const { from, to, value, validAfter, validBefore, nonce } = payload.authorization;
  const strings = [from, to, value, validAfter, validBefore, nonce];
  if (!strings.every((item) => typeof item === 'string')) return undefined;
  const authorization = { from, to, value, validAfter, validBefore, nonce } as ExactAuthorization;
  if (!ADDRESS.test(authorization.from) || !ADDRESS.test(authorization.to) || !NONCE.test(authorization.nonce)) return undefined;
  if (![authorization.value, authorization.validAfter, authorization.validBefore].every((item) => UINT.test(item))) return undefined;
  return authorization;
}

/** Decodes an x402 PaymentPayload (v2, or v1) for the "exact" EVM scheme, or says why it cannot be read. */
export function decodePayment(presented: unknown): DecodedPayment | PaymentRefusal {
  const malformed = (why: string) => refuse(REASON.invalidPayload, `The x402 payment could not be read: ${why}`);
  const raw = parsePresented(presented);
  if (!raw) return malformed('expected a PaymentPayload object (base64 JSON in a header, the object itself in MCP _meta)');
  let scheme: unknown;
  let network: unknown;
  if (raw.x402Version === 2) {
    if (!isRecord(raw.accepted)) return malformed('a v2 PaymentPayload needs "accepted" (the requirement it pays)');
    ({ scheme, network } = raw.accepted);
  } else if (raw.x402Version === 1) {
    ({ scheme, network } = raw);
  } else {
    return malformed(`unsupported x402Version ${JSON.stringify(raw.x402Version)} (1 and 2 are understood)`);
  }
  if (typeof scheme !== 'string' || typeof network !== 'string') return malformed('scheme and network must be strings');
  const authorization = authorizationOf(raw.payload);
  if (!authorization) return malformed('payload.authorization needs from, to (addresses), value, validAfter, validBefore (integers) and a 32-byte nonce');
  const signature = isRecord(raw.payload) ? raw.payload.signature : undefined;
  if (typeof signature !== 'string' || !SIGNATURE.test(signature)) return malformed('payload.signature must be a 0x-prefixed hex string');
  return { version: raw.x402Version, scheme, network, authorization, signature, raw: raw as unknown as DecodedPayment['raw'] };
}

export const isRefusal = (value: unknown): value is PaymentRefusal => isRecord(value) && typeof value.reason === 'string' && typeof value.message === 'string';

/** The id of x402's payment-identifier extension, when the payment names one (a valid one only). */
export function paymentIdentifierOf(presented: unknown): string | undefined {
  const raw = parsePresented(presented);
  if (!raw || raw.x402Version !== 2) return undefined;
  try {
    return extractPaymentIdentifier(raw as unknown as PaymentPayload, true) ?? undefined;
  } catch {
    return undefined;
  }
}
