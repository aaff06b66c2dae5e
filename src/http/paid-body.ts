import type { Request } from 'express';
import { SMALL_REQUEST_BYTES } from '../catalog/request-size.js';
import { credentialsFromHeaders } from '../payments/index.js';
import type { BodyLimit, BodyReading } from './body.js';

/**
 * How a paid route reads a large body: only when it comes with a payment, or when the capability needs none. An
 * unpaid request is answered 402 (`askForPayment`, the payment gate's own answer) before its images arrive.
 */
export function paidBodyReading(request: Request, limit: BodyLimit, askForPayment: () => Promise<void>): BodyReading {
  const payment = credentialsFromHeaders((name) => request.get(name));
  const unpaid = !payment.token && !payment.x402;
  return { ...limit, beforeLarge: unpaid ? { atBytes: SMALL_REQUEST_BYTES, check: askForPayment } : undefined };
}
