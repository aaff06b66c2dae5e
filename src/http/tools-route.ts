import type { Express, Request } from 'express';
import type { AppContext } from '../app.js';
import type { Capability } from '../catalog/capability.js';
import { requestBytesFor, SMALL_REQUEST_BYTES } from '../catalog/request-size.js';
import { toAppError } from '../errors.js';
import type { PaymentCredentials } from '../payments/index.js';
import { closeAfterAnswer, readJsonBody } from './body.js';
import { sendError, setPaymentReceipt } from './errors.js';

function paymentFrom(request: Request): PaymentCredentials {
  const token = request.get('x-payment-token');
  const x402 = request.get('payment-signature') ?? request.get('x-payment');
  return { token: token || undefined, x402: x402 || undefined };
}

/**
 * The call's arguments, within what its images can need as base64. A large body is read only when it comes with a
 * payment, or when the capability needs none: an unpaid call is answered 402 before its image arrives, with the
 * payment gate's own answer.
 */
async function readArguments(request: Request, capability: Capability, context: AppContext): Promise<unknown> {
  const payment = paymentFrom(request);
  const unpaid = !payment.token && !payment.x402;
  const askForPayment = async () => {
    const reservation = await context.payments.gate.reserve(capability, {});
    await reservation.release();
  };
  return readJsonBody(request, {
    maxBytes: requestBytesFor(capability),
    purpose: `${capability.serviceId} (its images as base64)`,
    beforeLarge: unpaid ? { atBytes: SMALL_REQUEST_BYTES, check: askForPayment } : undefined,
  });
}

/** POST /api/tools/:id — serviceId, legacy id, tool name or Action; the body is the Action's parameters. */
export function mountTools(app: Express, context: AppContext): void {
  app.post('/api/tools/:id', async (request, response) => {
    const controller = new AbortController();
    response.on('close', () => {
      if (!response.writableFinished) controller.abort(new Error('client went away'));
    });
    try {
      // An unknown id is answered (NOT_FOUND, by the pipeline) without reading its body.
      const capability = context.catalog.find(request.params.id);
      request.body = capability ? await readArguments(request, capability, context) : undefined;
      const outcome = await context.pipeline({
        tool: request.params.id,
        arguments: request.body ?? {},
        transport: 'rest',
        payment: paymentFrom(request),
        signal: controller.signal,
        idempotencyKey: request.get('idempotency-key'),
      });
      setPaymentReceipt(response, outcome.receipt, request.get('payment-signature') ? 2 : 1);
      if (outcome.replayed) response.set('Idempotent-Replayed', 'true');
      response.status(200).json(outcome.output);
    } catch (error) {
      closeAfterAnswer(request, response);
      sendError(response, toAppError(error));
    }
  });
}
