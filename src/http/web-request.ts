import { Readable } from 'node:stream';
import type { Request, Response } from 'express';

/**
 * The web Request the v2 SDK takes, made from an express request whose body was already read and parsed: headers
 * only, the parsed body going alongside (`parsedBody`), so a large body is never serialised again.
 */
export function webRequestOf(request: Request, signal?: AbortSignal): globalThis.Request {
  const headers = new Headers();
  for (const [name, value] of Object.entries(request.headers)) {
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const item of value) headers.append(name, item);
    else headers.set(name, value);
  }
  headers.delete('content-length');
  return new globalThis.Request(`http://${request.headers.host ?? 'localhost'}${request.originalUrl}`, { method: request.method, headers, ...(signal ? { signal } : {}) });
}

/**
 * Writes a web Response to express: status and headers, then its body. A JSON answer goes out whole, in one write
 * with its Content-Length (streamed, it took three); an SSE stream is passed on as it comes.
 */
export async function sendWebResponse(answer: globalThis.Response, response: Response): Promise<void> {
  response.status(answer.status);
  answer.headers.forEach((value, name) => response.setHeader(name, value));
  if (!answer.body) {
    response.end();
    return;
  }
  if (!answer.headers.get('content-type')?.startsWith('text/event-stream')) {
    const bytes = Buffer.from(await answer.arrayBuffer());
    response.setHeader('content-length', bytes.length);
    response.end(bytes);
    return;
  }
  response.flushHeaders();
  const body = Readable.fromWeb(answer.body as import('node:stream/web').ReadableStream);
  await new Promise<void>((resolve, reject) => {
    body.on('error', reject);
    response.on('close', resolve);
    body.pipe(response);
  });
}
