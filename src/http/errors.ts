import type { Response } from 'express';
import type { AppError } from '../errors.js';

export function sendError(response: Response, error: AppError): void {
  response.status(error.httpStatus).json(error.toBody());
}
