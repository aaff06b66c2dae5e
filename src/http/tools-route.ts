import type { Express, Request } from 'express';
import type { AppContext } from '../app.js';
import type { Capability } from '../catalog/capability.js';
import { requestBytesFor } from '../catalog/request-size.js';
import { toAppError } from '../errors.js';
import { closeAfterAnswer, readJsonBody } from './body.js';
import type { BodyBudget } from './body-budget.js';
import { paidBodyReading } from './paid-body.js';
import { credentialsFromHeaders } from '../payments/index.js';
import { sendError, setAnswerHeaders } from './errors.js';
import { argumentsForImage, sendResultImage, wantedImageType } from './image-answer.js';
import { isMultipart, isRawImage, readMultipartArguments, readRawImageArguments } from './uploads.js';
import { abortOnClose } from './abort-on-close.js';

/** The call's arguments from JSON, a multipart form or a raw image, within what its images can need. */
async function readArguments(request: Request, capability: Capability, context: AppContext, budget: BodyBudget): Promise<unknown> {
  const askForPayment = async () => {
    const reservation = await context.payments.gate.reserve(capability, {});
    await reservation.release();
  };
  const reading = paidBodyReading(request, { maxBytes: requestBytesFor(capability), purpose: `${capability.serviceId} (its images as base64)`, budget }, askForPayment);
  if (isMultipart(request)) return readMultipartArguments(request, capability, reading);
  if (isRawImage(request)) return readRawImageArguments(request, capability, reading);
  return readJsonBody(request, reading);
}

/** POST /api/tools/:id — serviceId, legacy id, tool name or Action; the body is the Action's parameters. */
export function mountTools(app: Express, context: AppContext, budget: BodyBudget): void {
  app.post('/api/tools/:id', async (request, response) => {
    const signal = abortOnClose(response);
    try {
      // An unknown id is answered (NOT_FOUND, by the pipeline) without reading its body.
      const capability = context.catalog.find(request.params.id);
      request.body = capability ? await readArguments(request, capability, context, budget) : undefined;
      // Asked for the image itself: only capabilities that take images have the output options that produce it.
      const imageType = capability && Object.keys(capability.images).length > 0 ? wantedImageType(request) : undefined;
      const outcome = await context.pipeline({
        tool: request.params.id,
        arguments: imageType ? argumentsForImage(request.body ?? {}, imageType) : (request.body ?? {}),
        transport: 'rest',
        payment: credentialsFromHeaders((name) => request.get(name)),
        signal,
        idempotencyKey: request.get('idempotency-key'),
      });
      setAnswerHeaders(request, response, outcome);
      if (imageType && sendResultImage(response, outcome)) return;
      response.status(200).json(outcome.output);
    } catch (error) {
      closeAfterAnswer(request, response);
      sendError(response, toAppError(error));
    }
  });
}
