/**
 * The HTTP side of the emulator: one node:http server on 127.0.0.1 that answers
 *  - `/` (POST or GET): imageseg RPC calls — authenticate, check Version and Action, apply
 *    injected faults, validate parameters, run the Action (or submit an async job), answer
 *    `{ RequestId, Data }` / `{ RequestId, Message }` or a POP error body;
 *  - `/results/…`, `/hosted/…`: the object store (./blobs.ts).
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { ACTIONS, ASYNC_SUBMIT_MESSAGE, isAsyncCall, validateParams, type ActionContext, type ActionSpec } from './actions.js';
import { authenticate, NonceCache } from './auth.js';
import { BlobStore } from './blobs.js';
import { AliError, aliError, errorBody, KNOWN_ERRORS, missingParameter } from './errors.js';
import { decodeImage, downloadImage, type Raster } from './images.js';
import { JobStore } from './jobs.js';

export const API_VERSION = '2019-12-30';
const MAX_BODY_BYTES = 8 * 1024 * 1024;

export interface Fault { action?: string; code: string; httpStatus: number; message?: string; remaining: number }

export interface EmulatorState {
  credentials: Map<string, string>;
  calls: Array<{ action: string; params: Record<string, string>; at: number; ms?: number }>;
  faults: Fault[];
  delays: Map<string, number[]>;
  jobs: JobStore;
  blobs: BlobStore;
  nonces: NonceCache;
  downloadTimeoutMs: number;
  /** test-only hosts the downloader reaches elsewhere (see AlibabaEmulator.addDownloadRoute) */
  downloadRoutes: Array<(url: URL) => string | undefined>;
}

export function newRequestId(): string {
  return randomUUID().toUpperCase();
}

/** Decode `a=b&c=d` with RFC 3986 percent-decoding ('+' read as a space, as form encoding does). */
export function parseParams(raw: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (!raw) return out;
  for (const part of raw.split('&')) {
    if (!part) continue;
    const eq = part.indexOf('=');
    const rawKey = eq < 0 ? part : part.slice(0, eq);
    const rawValue = eq < 0 ? '' : part.slice(eq + 1);
    const decode = (s: string): string => {
      try {
        return decodeURIComponent(s.replace(/\+/g, ' '));
      } catch {
        return s;
      }
    };
    out[decode(rawKey)] = decode(rawValue);
  }
  return out;
}

export function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    req.on('data', (chunk: Buffer) => {
      total += chunk.length;
      if (total > MAX_BODY_BYTES) {
        reject(aliError('InvalidParameter.TooLarge', 'The request body is too large.'));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export function sendJson(res: ServerResponse, status: number, requestId: string, payload: unknown): void {
  if (res.destroyed || res.writableEnded) return;
  const body = JSON.stringify(payload);
  res.writeHead(status, {
    'content-type': 'application/json;charset=utf-8',
    'content-length': String(Buffer.byteLength(body)),
    'x-acs-request-id': requestId,
  });
  res.end(body);
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function takeFault(state: EmulatorState, action: string): Fault | undefined {
  const index = state.faults.findIndex((f) => f.action === undefined || f.action === action);
  if (index < 0) return undefined;
  const fault = state.faults[index];
  fault.remaining -= 1;
  if (fault.remaining <= 0) state.faults.splice(index, 1);
  return fault;
}

function takeDelay(state: EmulatorState, action: string): number {
  const queue = state.delays.get(action);
  const ms = queue?.shift() ?? 0;
  if (queue && queue.length === 0) state.delays.delete(action);
  return ms;
}

function actionContext(state: EmulatorState, spec: ActionSpec, params: Record<string, string>): ActionContext {
  const cache = new Map<string, Promise<Raster>>();
  return {
    action: spec.action,
    params,
    image(param) {
      let pending = cache.get(param);
      if (!pending) {
        const limits = spec.limits!;
        const route = (url: URL) => state.downloadRoutes.reduce<string | undefined>((found, next) => found ?? next(url), undefined);
        pending = downloadImage(params[param], param, limits.maxBytes, state.downloadTimeoutMs, route).then((bytes) => decodeImage(bytes, limits, param));
        cache.set(param, pending);
      }
      return pending;
    },
    putResult: (bytes, ext) => state.blobs.putResult(bytes, ext),
    jobView: (jobId) => state.jobs.view(jobId),
  };
}

async function handleApi(state: EmulatorState, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  const startedAt = performance.now();
  const requestId = newRequestId();
  let recorded: EmulatorState['calls'][number] | undefined;
  let delayMs = 0;
  let status = 200;
  let payload: unknown;
  try {
    const body = await readBody(req);
    const contentType = (req.headers['content-type'] ?? '').toLowerCase();
    const form = contentType.startsWith('application/x-www-form-urlencoded') ? parseParams(body.toString('utf8')) : {};
    // the query exactly as sent (not re-serialised by URL), so decoding mirrors the client's encoding
    const rawUrl = req.url ?? '/';
    const rawQuery = rawUrl.includes('?') ? rawUrl.slice(rawUrl.indexOf('?') + 1).split('#')[0] : '';
    const auth = authenticate(
      { method: req.method ?? 'GET', pathname: url.pathname, headers: req.headers, query: parseParams(rawQuery), form, body },
      state.credentials,
      state.nonces,
    );
    // signature-valid: the call is accepted and recorded
    const action = auth.action ?? '';
    recorded = { action, params: { ...auth.params }, at: Date.now() };
    state.calls.push(recorded);
    delayMs = takeDelay(state, action);

    if (!auth.action) throw missingParameter('Action');
    if (!auth.version) throw missingParameter('Version');
    if (auth.version !== API_VERSION) throw aliError('InvalidVersion', `Received ${auth.version}; this product is ${API_VERSION}.`);
    const spec = ACTIONS.get(action);
    if (!spec) throw aliError('InvalidAction.NotFound', `Action: ${action}`);

    const fault = takeFault(state, action);
    if (fault) throw new AliError(fault.code, fault.httpStatus, fault.message ?? KNOWN_ERRORS[fault.code]?.message ?? fault.code);

    validateParams(spec, auth.params);
    const ctx = actionContext(state, spec, auth.params);
    if (isAsyncCall(spec, auth.params)) {
      state.jobs.submit(requestId, action, () => spec.run(ctx));
      payload = { RequestId: requestId, Message: ASYNC_SUBMIT_MESSAGE };
    } else {
      payload = { RequestId: requestId, Data: await spec.run(ctx) };
    }
  } catch (err) {
    const e = err instanceof AliError ? err : new AliError('InternalError', 500, `${KNOWN_ERRORS.InternalError.message} (${String((err as Error)?.message ?? err)})`);
    status = e.httpStatus;
    payload = errorBody(requestId, e.code, e.message);
  }
  if (delayMs > 0) await sleep(delayMs);
  sendJson(res, status, requestId, payload);
  if (recorded) recorded.ms = performance.now() - startedAt;
}

export function createEmulatorServer(state: EmulatorState): Server {
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://emulator.invalid');
    if (state.blobs.serve(req, res, url)) return;
    if (url.pathname !== '/') {
      const requestId = newRequestId();
      sendJson(res, 404, requestId, errorBody(requestId, 'InvalidAction.NotFound', `${KNOWN_ERRORS['InvalidAction.NotFound'].message} Path: ${url.pathname}`));
      return;
    }
    handleApi(state, req, res, url).catch((err: unknown) => {
      const requestId = newRequestId();
      sendJson(res, 500, requestId, errorBody(requestId, 'InternalError', String((err as Error)?.message ?? err)));
    });
  });
  server.keepAliveTimeout = 5000;
  return server;
}
