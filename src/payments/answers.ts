import { AppError } from '../errors.js';
import { paymentRequiredOf, type AnyPaymentRequired, type Purchase, type X402Offer } from './requirements.js';
import { REASON, type PaymentRefusal } from './reasons.js';

/** What the payment-required answers need to know besides the purchase. */
export interface AnswerContext {
  offer: X402Offer;
  baseUrl: string;
}

/** The next step, in words a person or a model can follow; it depends on what this server accepts. */
function howToPay(purchase: Purchase, context: AnswerContext): string {
  const { capability } = purchase;
  const x402 = Boolean(context.offer.payTo);
  const buy = `POST ${context.baseUrl}/api/payments {"serviceId":"${capability.serviceId}"}`;
  if (purchase.resource.url.endsWith('/api/payments')) {
    return x402
      ? `Sign the requirement in accepts[] with an x402 client and send this request again with the PAYMENT-SIGNATURE header (X-PAYMENT for x402 v1); the answer is a payment token worth ${purchase.calls} call(s).`
      : `This server accepts no x402 payments yet (its operator has not set X402_PAY_TO): ask the operator for a payment token (imageseg-mcp tokens mint --service ${capability.serviceId}).`;
  }
  const token = `retry with the X-Payment-Token header (MCP: the paymentToken argument)`;
  if (!x402) {
    return `This server accepts no x402 payments yet (its operator has not set X402_PAY_TO): get a payment token from the operator (imageseg-mcp tokens mint --service ${capability.serviceId}) and ${token}.`;
  }
  return (
    `To pay, either buy a payment token with ${buy} and an x402 payment (or ask the operator: imageseg-mcp tokens mint) and ${token}; ` +
    `or pay this call itself with x402: sign the requirement in accepts[] and retry with the PAYMENT-SIGNATURE header (X-PAYMENT for x402 v1; MCP: _meta["x402/payment"]).`
  );
}

const priceText = (purchase: Purchase) => `USD ${purchase.usd} for ${purchase.calls === 1 ? 'one call' : `${purchase.calls} calls`} of ${purchase.capability.serviceId}`;

/** A payment answer: the x402 PaymentRequired object that both edges send (402 body and header; MCP structuredContent). */
export class PaymentRequiredError extends AppError {
  constructor(
    code: 'PAYMENT_REQUIRED' | 'PAYMENT_INVALID',
    message: string,
    readonly paymentRequired: AnyPaymentRequired,
    options: AppError['options'],
  ) {
    super(code, message, options);
    this.name = 'PaymentRequiredError';
  }
}

/** An unpaid request: PAYMENT_REQUIRED carrying the x402 PaymentRequired object. */
export function paymentRequiredError(purchase: Purchase, context: AnswerContext, version: 1 | 2): PaymentRequiredError {
  const paymentRequired = paymentRequiredOf(context.offer, purchase, context.baseUrl, { error: REASON.paymentRequired, version });
  return new PaymentRequiredError('PAYMENT_REQUIRED', `Payment required: ${priceText(purchase)}. ${howToPay(purchase, context)}`, paymentRequired, {
    details: { reason: REASON.paymentRequired, charged: false },
  });
}

/** A refused payment: PAYMENT_INVALID with its reason code in `error`, and the same PaymentRequired to try again. */
export function paymentInvalidError(refusal: PaymentRefusal, purchase: Purchase, context: AnswerContext, version: 1 | 2): PaymentRequiredError {
  const paymentRequired = paymentRequiredOf(context.offer, purchase, context.baseUrl, { error: refusal.reason, version });
  return new PaymentRequiredError('PAYMENT_INVALID', `Payment refused (${refusal.reason}): ${refusal.message}. Nothing was charged. ${howToPay(purchase, context)}`, paymentRequired, {
    retryable: refusal.retryable ?? false,
    details: { reason: refusal.reason, charged: false, ...refusal.facts },
  });
}
