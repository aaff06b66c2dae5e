import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { JSONRPCMessageSchema } from '@modelcontextprotocol/sdk/types.js';
import { toAppError } from '../errors.js';
import { closeAfterAnswer, parseJson, readJsonBytes } from './body.js';

type RequestId = string | number | null;

function idOf(message: unknown): RequestId {
  const id = (message as { id?: unknown } | null)?.id;
  return typeof id === 'string' || typeof id === 'number' ? id : null;
}

/** The JSON-RPC answer to a message the server could not take: protocol errors stay protocol errors. */
export function sendJsonRpcError(response: Response, status: number, code: number, message: string, id: RequestId = null, data?: unknown): void {
  response.status(status).json({ jsonrpc: '2.0', error: { code, message, ...(data === undefined ? {} : { data }) }, id });
}

const jsonRpcCodeOf = (status: number) => (status === 415 ? -32000 : status === 413 ? -32600 : status === 400 ? -32700 : -32603);

/**
 * POST /mcp bodies: read within `maxBytes` (the largest tool input as base64, plus margin) and checked to be
 * JSON-RPC before the SDK sees them, every refusal in JSON-RPC shape. A body that is not JSON is left to the SDK,
 * which answers 415.
 */
export function jsonRpcBody(maxBytes: number): RequestHandler {
  return async (request: Request, response: Response, next: NextFunction) => {
    let bytes: Buffer | undefined;
    try {
      bytes = await readJsonBytes(request, { maxBytes, purpose: 'an MCP message' });
    } catch (error) {
      const appError = toAppError(error);
      closeAfterAnswer(request, response);
      return sendJsonRpcError(response, appError.httpStatus, jsonRpcCodeOf(appError.httpStatus), appError.message, null, appError.options.details);
    }
    if (bytes === undefined) return next();
    let message: unknown;
    try {
      message = parseJson(bytes);
    } catch (error) {
      return sendJsonRpcError(response, 400, -32700, `Parse error: ${(error as Error).message}`);
    }
    const messages: unknown[] = Array.isArray(message) ? message : [message];
    const invalid = messages.length === 0 ? message : messages.find((candidate) => !JSONRPCMessageSchema.safeParse(candidate).success);
    if (invalid !== undefined) {
      return sendJsonRpcError(response, 400, -32600, 'Invalid Request: the body is JSON but not a JSON-RPC 2.0 message', idOf(invalid));
    }
    request.body = message;
    next();
  };
}
