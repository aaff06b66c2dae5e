import type { NextFunction, Request, Response } from 'express';
import type { AppContext } from '../app.js';
import { AppError } from '../errors.js';
import { sendError } from './errors.js';

/** About how long a load balancer needs to send the next try to another replica. */
const RETRY_AFTER_SECONDS = 5;

/**
 * After SIGTERM the calls in flight may finish, but nothing new starts here: every new request (health checks
 * included, so load balancers stop sending) is answered 503 SHUTTING_DOWN with Retry-After, on a closing connection.
 */
export function refuseWhileDraining(context: AppContext) {
  return (_request: Request, response: Response, next: NextFunction) => {
    if (!context.draining) return next();
    response.set('Connection', 'close');
    sendError(
      response,
      new AppError('SHUTTING_DOWN', 'This server is shutting down; retry on another replica or in a few seconds', {
        retryable: true,
        retryAfterSeconds: RETRY_AFTER_SECONDS,
        details: { charged: false },
      }),
    );
  };
}
