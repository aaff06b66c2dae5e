import type { Express, Request } from 'express';
import type { AppContext } from '../app.js';
import { toAppError } from '../errors.js';
import type { PaymentCredentials } from '../payments/index.js';
import { sendError, setPaymentReceipt } from './errors.js';

function paymentFrom(request: Request): PaymentCredentials {
  const token = request.get('x-payment-token');
  const x402 = request.get('payment-signature') ?? request.get('x-payment');
  return { token: token || undefined, x402: x402 || undefined };
}

/** POST /api/tools/:id — serviceId, legacy id, tool name or Action; the body is the Action's parameters. */
export function mountTools(app: Express, context: AppContext): void {
  app.post('/api/tools/:id', async (request, response) => {
    const controller = new AbortController();
    response.on('close', () => {
      if (!response.writableFinished) controller.abort(new Error('client went away'));
    });
    try {
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
      sendError(response, toAppError(error));
    }
  });
}
