import { createHash } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import type { AppContext } from '../app.js';
import { AppError } from '../errors.js';
import { clientAddressOf, trustedProxyList } from './client-address.js';
import { sendError } from './errors.js';
import { credentialsFromHeaders } from '../payments/index.js';

/** Probes and scrapers are not clients: they are never limited. */
const UNLIMITED = new Set(['/healthz', '/metrics']);

const tokenKey = (token: string) => `token:${createHash('sha256').update(token).digest('hex').slice(0, 32)}`;

/**
 * IMAGESEG_RATE_LIMIT: each request counts against its client address and, when it carries one, its payment token;
 * over the limit in the current minute it is answered 429 RATE_LIMITED with Retry-After, before any other work.
 */
export function rateLimit(context: AppContext) {
  const { rateLimiter, metrics, logger } = context;
  const proxies = trustedProxyList(context.config.trustedProxies);
  return (request: Request, response: Response, next: NextFunction) => {
    if (!rateLimiter || UNLIMITED.has(request.path)) return next();
    const keys = [`address:${clientAddressOf(request, proxies)}`];
    const { token } = credentialsFromHeaders((name) => request.get(name));
    if (token) keys.push(tokenKey(token));
    rateLimiter.check(keys).then(
      (decision) => {
        if (decision.allowed) return next();
        metrics.recordRateLimited();
        sendError(
          response,
          new AppError('RATE_LIMITED', `More than ${context.config.rateLimitPerMinute} requests in a minute; retry in ${decision.retryAfterSeconds} s`, {
            retryable: true,
            retryAfterSeconds: decision.retryAfterSeconds,
            details: { charged: false },
          }),
        );
      },
      (error: unknown) => {
        // A counter that cannot count must not take the service down with it.
        logger.warn({ err: (error as Error).message }, 'rate limit counter unavailable; request let through');
        next();
      },
    );
  };
}
