import type { Capability } from '../catalog/capability.js';

/** What a caller presented to pay for one call. */
export interface PaymentCredentials {
  token?: string;
  /** An x402 PaymentPayload (v2) or v1 payload, already decoded from its header or `_meta`. */
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
