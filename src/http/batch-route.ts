import type { Express, Request } from 'express';
import type { AppContext } from '../app.js';
import { MAX_BATCH_ITEMS } from '../batch.js';
import { batchRequestBytesFor } from '../catalog/request-size.js';
import { toAppError } from '../errors.js';
import { closeAfterAnswer, readJsonBody } from './body.js';
import type { BodyBudget } from './body-budget.js';
import { sendError, setAnswerHeaders } from './errors.js';
import { paidBodyReading } from './paid-body.js';
import { credentialsFromHeaders } from '../payments/index.js';
import { abortOnClose } from './abort-on-close.js';

/** How many items an unpaid large body says it holds (`?items=N`), for a 402 with the right amount before reading it. */
function announcedItems(request: Request): number {
  const items = Number(request.query.items);
  return Number.isInteger(items) && items >= 1 && items <= MAX_BATCH_ITEMS ? items : 1;
}

/** POST /api/batch/:id — `{items: [arguments, ...]}`: up to 20 calls of one capability, paid together. */
export function mountBatch(app: Express, context: AppContext, budget: BodyBudget): void {
  app.post('/api/batch/:id', async (request, response) => {
    const signal = abortOnClose(response);
    try {
      const capability = context.catalog.find(request.params.id);
      if (capability) {
        const askForPayment = async () => {
          const payment = await context.payments.gate.reserveBatch(capability, {}, announcedItems(request));
          await payment.release();
        };
        const limit = { maxBytes: batchRequestBytesFor(capability, MAX_BATCH_ITEMS), purpose: `a batch of ${capability.serviceId} (its images as base64)`, budget };
        const reading = paidBodyReading(request, limit, askForPayment);
        request.body = await readJsonBody(request, reading);
      }
      const body = request.body as { items?: unknown } | undefined;
      const outcome = await context.batch({
        tool: request.params.id,
        items: body?.items,
        transport: 'rest',
        payment: credentialsFromHeaders((name) => request.get(name)),
        signal,
        idempotencyKey: request.get('idempotency-key'),
      });
      setAnswerHeaders(request, response, outcome);
      response.status(200).json(outcome.output);
    } catch (error) {
      closeAfterAnswer(request, response);
      sendError(response, toAppError(error));
    }
  });
}
