import type { Request } from 'express';
import { SMALL_REQUEST_BYTES } from '../catalog/request-size.js';
import type { PaymentCredentials } from '../payments/index.js';
import type { BodyReading } from './body.js';

/** What a REST request presents to pay: a payment token, or an x402 payment (v2 PAYMENT-SIGNATURE, v1 X-PAYMENT). */
export function paymentFrom(request: Request): PaymentCredentials {
  const token = request.get('x-payment-token');
  const x402 = request.get('payment-signature') ?? request.get('x-payment');
  return { token: token || undefined, x402: x402 || undefined };
}

/**
 * How a paid route reads a large body: only when it comes with a payment, or when the capability needs none. An
 * unpaid request is answered 402 (`askForPayment`, the payment gate's own answer) before its images arrive.
 */
export function paidBodyReading(request: Request, maxBytes: number, purpose: string, askForPayment: () => Promise<void>): BodyReading {
  const payment = paymentFrom(request);
  const unpaid = !payment.token && !payment.x402;
  return { maxBytes, purpose, beforeLarge: unpaid ? { atBytes: SMALL_REQUEST_BYTES, check: askForPayment } : undefined };
}

