import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { JSONRPCMessageSchema } from '@modelcontextprotocol/sdk/types.js';
import { toAppError } from '../errors.js';
import { closeAfterAnswer, readJson } from './body.js';
import type { BodyBudget } from './body-budget.js';
import { retryAfterSeconds } from './errors.js';
import type { JsonText } from './json-text.js';

type RequestId = string | number | null;

function idOf(message: unknown): RequestId {
  const id = (message as { id?: unknown } | null)?.id;
  return typeof id === 'string' || typeof id === 'number' ? id : null;
}

/** The JSON-RPC answer to a message the server could not take: protocol errors stay protocol errors. */
export function sendJsonRpcError(response: Response, status: number, code: number, message: string, id: RequestId = null, data?: unknown): void {
  response.status(status).json({ jsonrpc: '2.0', error: { code, message, ...(data === undefined ? {} : { data }) }, id });
}

const jsonRpcCodeOf = (status: number) => (status === 415 || status === 503 ? -32000 : status === 413 ? -32600 : status === 400 ? -32700 : -32603);

function parsedMessage(text: JsonText): { message: unknown } | { parseError: string } {
  try {
    return { message: text.parse() };
  } catch (error) {
    return { parseError: (error as Error).message };
  }
}

/**
 * POST /mcp bodies: read within `maxBytes` (the largest tool input as base64, plus margin) and the body budget,
 * and checked to be JSON-RPC before the SDK sees them, every refusal in JSON-RPC shape (`id` null: the body was
 * not read; `data` is our error object). A body that is not JSON is left to the SDK, which answers 415.
 */
export function jsonRpcBody(maxBytes: number, budget: BodyBudget): RequestHandler {
  return async (request: Request, response: Response, next: NextFunction) => {
    let parsed: ReturnType<typeof parsedMessage> | undefined;
    try {
      parsed = await readJson(request, { maxBytes, purpose: 'an MCP message', budget }, parsedMessage);
    } catch (error) {
      const appError = toAppError(error);
      closeAfterAnswer(request, response);
      const retryAfter = retryAfterSeconds(appError);
      if (retryAfter !== undefined) response.set('Retry-After', String(retryAfter));
      return sendJsonRpcError(response, appError.httpStatus, jsonRpcCodeOf(appError.httpStatus), appError.message, null, appError.toBody().error);
    }
    if (parsed === undefined) return next();
    if ('parseError' in parsed) return sendJsonRpcError(response, 400, -32700, `Parse error: ${parsed.parseError}`);
    const { message } = parsed;
    const messages: unknown[] = Array.isArray(message) ? message : [message];
    const invalid = messages.length === 0 ? message : messages.find((candidate) => !JSONRPCMessageSchema.safeParse(candidate).success);
    if (invalid !== undefined) {
      return sendJsonRpcError(response, 400, -32600, 'Invalid Request: the body is JSON but not a JSON-RPC 2.0 message', idOf(invalid));
    }
    request.body = message;
    next();
  };
}
