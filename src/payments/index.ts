import type { Capability } from '../catalog/capability.js';

/** What a caller presented to pay for one call. */
export interface PaymentCredentials {
  token?: string;
  /** An x402 PaymentPayload (v2) or v1 payload: the header's base64 JSON, or the object from MCP `_meta`. */
  x402?: unknown;
}

/** One call's hold on a payment: committed when the call succeeded, released otherwise. */
export interface Reservation {
  commit(): Promise<{ receipt?: unknown }>;
  release(): Promise<void>;
}

export interface PaymentGate {
  reserve(capability: Capability, credentials: PaymentCredentials): Promise<Reservation>;
}

const nothingHeld: Reservation = {
  commit: async () => ({}),
  release: async () => undefined,
};

/** PAYMENTS=off: every call is free and nothing is recorded. */
export function createFreeGate(): PaymentGate {
  return { reserve: async () => nothingHeld };
}

export { createPayments, type Payments, type PaymentsOptions, type IssuedToken, type TokenStatus } from './service.js';
export { createPaymentGate } from './gate.js';
export { createFacilitator, type Facilitator } from './facilitator.js';
export { openLedger } from './ledger.js';
export type { LedgerStore, NewToken, TokenState, TokenRefusal, NonceKey } from './store.js';
export { parseExpiry } from './tokens.js';
export { credentialOwners, payingOwner } from './owner.js';
export { REASON } from './reasons.js';
