import { createHash, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import type { AppContext } from '../app.js';
import { AppError } from '../errors.js';
import { sendError } from './errors.js';

const digest = (text: string) => createHash('sha256').update(text).digest();

/** Operator endpoints: `Authorization: Bearer $ADMIN_TOKEN`, compared in constant time; off while ADMIN_TOKEN is unset. */
export function requireOperator(context: AppContext) {
  return (request: Request, response: Response, next: NextFunction) => {
    const expected = context.config.adminToken;
    if (!expected) return sendError(response, new AppError('UNAUTHORIZED', 'Operator endpoints are off until ADMIN_TOKEN is set'));
    const presented = /^Bearer\s+(.+)$/i.exec(request.get('authorization') ?? '')?.[1]?.trim() ?? '';
    if (!timingSafeEqual(digest(presented), digest(expected))) {
      response.set('WWW-Authenticate', 'Bearer');
      return sendError(response, new AppError('UNAUTHORIZED', 'Operator endpoints need Authorization: Bearer <ADMIN_TOKEN>'));
    }
    next();
  };
}
