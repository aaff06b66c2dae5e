import type { Express, Request, Response } from 'express';
import type { AppContext } from '../app.js';
import { AppError, toAppError } from '../errors.js';
import { credentialsFromHeaders, parseExpiry, x402VersionOfHeaders } from '../payments/index.js';
import { sendError, setPaymentReceipt } from './errors.js';
import { requireOperator } from './operator-auth.js';

function expiryOf(body: Record<string, unknown>): number | null {
  const text = body.expiresAt ?? body.expires;
  if (text === undefined || text === null) return null;
  try {
    return parseExpiry(String(text), Date.now());
  } catch (error) {
    throw new AppError('INVALID_ARGUMENT', (error as Error).message, { details: { fields: ['expires'] } });
  }
}

const handle = (work: (request: Request, response: Response) => Promise<void>) => (request: Request, response: Response) =>
  work(request, response).catch((error: unknown) => sendError(response, toAppError(error)));

/**
 * POST /api/payments buys a payment token with x402; GET /api/payments/:token says what is left on one;
 * the operator mints and revokes tokens under /api/admin/tokens.
 */
export function mountPayments(app: Express, context: AppContext): void {
  const { payments } = context;

  app.post(
    '/api/payments',
    handle(async (request, response) => {
      const body = (request.body ?? {}) as Record<string, unknown>;
      const header = (name: string) => request.get(name);
      const { token, receipt } = await payments.buyToken(body.serviceId as string, credentialsFromHeaders(header).x402, body.calls);
      context.metrics.recordPayment({ method: 'x402', outcome: 'bought' });
      setPaymentReceipt(response, receipt, x402VersionOfHeaders(header));
      response.status(201).set('Cache-Control', 'no-store').json(token);
    }),
  );

  app.get(
    '/api/payments/:token',
    handle(async (request, response) => {
      const status = await payments.describeToken(request.params.token as string);
      if (!status) throw new AppError('NOT_FOUND', 'No payment token matches');
      response.set('Cache-Control', 'no-store').json(status);
    }),
  );

  app.post(
    '/api/admin/tokens',
    requireOperator(context),
    handle(async (request, response) => {
      const body = (request.body ?? {}) as Record<string, unknown>;
      const calls = body.calls === undefined ? undefined : Number(body.calls);
      const token = await payments.mintToken({ serviceId: body.serviceId as string, calls, expiresAt: expiryOf(body) });
      response.status(201).set('Cache-Control', 'no-store').json(token);
    }),
  );

  app.get(
    '/api/admin/tokens',
    requireOperator(context),
    handle(async (request, response) => {
      const service = typeof request.query.service === 'string' && request.query.service ? request.query.service : undefined;
      response.set('Cache-Control', 'no-store').json({ tokens: await payments.listTokens(service) });
    }),
  );

  app.get(
    '/api/admin/revenue',
    requireOperator(context),
    handle(async (request, response) => {
      const text = (name: string) => (typeof request.query[name] === 'string' && request.query[name] ? request.query[name] : undefined);
      response.set('Cache-Control', 'no-store').json(await payments.revenue({ from: text('from'), to: text('to') }));
    }),
  );

  app.delete(
    '/api/admin/tokens/:token',
    requireOperator(context),
    handle(async (request, response) => {
      const token = request.params.token as string;
      if (!(await payments.revokeToken(token))) throw new AppError('NOT_FOUND', 'No payment token matches');
      response.json({ revoked: true, ...(await payments.describeToken(token)) });
    }),
  );
}
