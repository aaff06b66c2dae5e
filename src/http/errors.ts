import type { Request, Response } from 'express';
import type { PaymentRequired } from '@x402/core/types';
import { operatorMessage, type AppError } from '../errors.js';
import type { Logger } from '../logger.js';
import { PaymentRequiredError, x402VersionOfHeaders } from '../payments/index.js';

/**
 * An x402 header value: base64 of the UTF-8 JSON, as @x402/core's encode*Header functions make it, without their
 * byte-by-byte string building (a fifth of a millisecond per 402 answer).
 */
const base64Json = (value: unknown) => Buffer.from(JSON.stringify(value), 'utf8').toString('base64');

/**
 * x402 over HTTP: a payment answer is 402 with the PaymentRequired object as body and, base64, in the
 * PAYMENT-REQUIRED header, never cached. The body also says, in words, what to do, whether the same payment may
 * work later, and that nothing was charged.
 */
function sendPaymentRequired(response: Response, error: AppError, paymentRequired: PaymentRequired): void {
  response
    .status(402)
    .set('PAYMENT-REQUIRED', base64Json(paymentRequired))
    .set('Cache-Control', 'no-store')
    .json({ ...paymentRequired, message: error.message, retryable: error.retryable, charged: false });
}

export function sendError(response: Response, error: AppError): void {
  // The client gets a reference only; the log keeps what went wrong (the pipeline logs its own calls too).
  if (error.code === 'INTERNAL') (response.app.locals.logger as Logger | undefined)?.error({ path: response.req.path, err: operatorMessage(error) }, 'internal error');
  if (error instanceof PaymentRequiredError) return sendPaymentRequired(response, error, error.paymentRequired as PaymentRequired);
  const retryAfter = retryAfterSeconds(error);
  if (retryAfter !== undefined) response.set('Retry-After', String(retryAfter));
  response.status(error.httpStatus).json(error.toBody());
}

/** Every 429 and 503 says when to come back (the upstream's hint or our backoff); so does a 409 for work in progress. */
export function retryAfterSeconds(error: AppError): number | undefined {
  if (error.options.retryAfterSeconds !== undefined) return error.options.retryAfterSeconds;
  if (error.httpStatus === 429) return 1;
  // Not configured: nothing changes until the operator acts, so a client should not come back soon.
  if (error.httpStatus === 503) return 300;
  return undefined;
}

/** The settlement receipt of a paid call: PAYMENT-RESPONSE for x402 v2 clients, X-PAYMENT-RESPONSE for v1. */
export function setPaymentReceipt(response: Response, receipt: unknown, version: 1 | 2): void {
  if (!receipt) return;
  response.set(version === 1 ? 'X-PAYMENT-RESPONSE' : 'PAYMENT-RESPONSE', base64Json(receipt));
}

/** The headers of a paid answer: the receipt in the x402 version the caller paid with, and whether it is a replay. */
export function setAnswerHeaders(request: Request, response: Response, outcome: { receipt?: unknown; replayed?: boolean }): void {
  setPaymentReceipt(response, outcome.receipt, x402VersionOfHeaders((name) => request.get(name)));
  if (outcome.replayed) response.set('Idempotent-Replayed', 'true');
}
