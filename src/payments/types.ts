import type { Capability } from '../catalog/capability.js';

export interface IdentityOptions {
  /**
   * Opening what was paid before (a held job, a task) needs a payload never presented here and still valid: a
   * settled one is public on-chain, so anyone could show it.
   */
  fresh?: boolean;
}

/** What a caller presented to pay for one call. */
export interface PaymentCredentials {
  token?: string;
  /** An x402 PaymentPayload (v2) or v1 payload: the header's base64 JSON, or the object from MCP `_meta`. */
  x402?: unknown;
  /** Set by the batch runner only: this call is one item of a batch paid as a whole (see `reserveBatch`). */
  batch?: BatchHold;
}

/** One call's hold on a payment: committed when the call succeeded, released otherwise. */
export interface Reservation {
  commit(): Promise<{ receipt?: unknown }>;
  release(): Promise<void>;
  /** Keeps the payment held after the call ended (a job that outlived its deadline) until `until`; returns what `resume` needs. */
  keep(until: number): Promise<string>;
}

/**
 * The items of one batch reserve through it: an item that succeeds does not commit its use at once but when the
 * whole batch answer is ready, so a batch whose caller went away is charged nothing.
 */
export interface BatchHold {
  defer(reservation: Reservation): Reservation;
}

/** A payment token given back for the failed items of an x402-paid batch: their value, to spend later. */
export interface BatchCredit {
  paymentToken: string;
  calls: number;
}

/** A batch's money: reserved as a whole, then settled for what its items delivered. */
export interface BatchPayment {
  /** What each item's pipeline call presents. */
  itemPayment: PaymentCredentials;
  /**
   * The batch answer is ready: with a token, the successful items' uses are committed; with x402, the payment is
   * settled (never when nothing succeeded) and the failed items come back as a credit token.
   */
  finish(counts: { succeeded: number; failed: number }): Promise<{ receipt?: unknown; credit?: BatchCredit }>;
  /** Nothing is delivered: every hold is released and an x402 payment is not settled. */
  release(): Promise<void>;
}

export interface PaymentGate {
  reserve(capability: Capability, credentials: PaymentCredentials): Promise<Reservation>;
  /** `items` calls paid together: unpaid is one PAYMENT_REQUIRED for items x the price (x402 amount included). */
  reserveBatch(capability: Capability, credentials: PaymentCredentials, items: number): Promise<BatchPayment>;
  /** A kept reservation again, in any process: committed when the job's result is delivered, released when it failed. */
  resume(capability: Capability, kept: string): Reservation;
  /**
   * Who presents these credentials, as a key for idempotency records and job ownership, never the secret itself:
   * `token:<hash>`, `x402:<payer address>` (only once the payload's signature recovers to it), or `anonymous`.
   * An x402 payload that proves nobody is refused with its reason (PAYMENT_INVALID; UNAUTHORIZED for a free tool).
   */
  identify(capability: Capability, credentials: PaymentCredentials, options?: IdentityOptions): Promise<string>;
}
