/**
 * A loopback emulator of the open platform's AuthorizeFileUpload (version 2019-12-19), the first step of the
 * SDK's `*Advance` uploads. Requests are authenticated exactly like the imageseg emulator's (./auth.ts:
 * ACS3-HMAC-SHA256 or RPC v1, same error codes); the answer is a grant from the OSS emulator it is given:
 *   { RequestId, AccessKeyId, Bucket, Endpoint, EncodedPolicy, ObjectKey, Signature, UseAccelerate }
 * Point the product at it with IMAGESEG_OPENPLATFORM_ENDPOINT = `endpoint` (protocol http).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { authenticate, NonceCache } from './auth.js';
import { AliError, aliError, errorBody, KNOWN_ERRORS, missingParameter } from './errors.js';
import type { InjectedFault } from './index.js';
import type { OssEmulator } from './oss.js';
import { newRequestId, parseParams, readBody, sendJson, type Fault } from './server.js';

export const OPEN_PLATFORM_VERSION = '2019-12-19';
const HOST_ID = 'openplatform.aliyuncs.com';
/** Products whose Advance methods upload through AuthorizeFileUpload; imageseg is the one this project uses. */
const PRODUCTS = new Set(['imageseg', 'facebody', 'objectdet', 'imagerecog', 'imageenhan', 'goodstech', 'ocr', 'videoenhan', 'videorecog']);

export interface OpenPlatformEmulatorOptions {
  /** issues the grants */
  oss: OssEmulator;
  /** default the imageseg emulator's defaults, so one key pair signs both */
  accessKeyId?: string;
  accessKeySecret?: string;
}

export interface OpenPlatformEmulator {
  /** "127.0.0.1:<port>": what IMAGESEG_OPENPLATFORM_ENDPOINT is set to (protocol http) */
  endpoint: string;
  /** every signature-valid call, in arrival order, with the grant it got (if any) */
  calls: Array<{ action: string; params: Record<string, string>; method: string; at: number; grant?: ReturnType<OssEmulator['issueGrant']> }>;
  /** the next matching call(s) answer with this error */
  injectFault(fault: InjectedFault): void;
  clearFaults(): void;
  close(): Promise<void>;
}

export async function startOpenPlatformEmulator(options: OpenPlatformEmulatorOptions): Promise<OpenPlatformEmulator> {
  const accessKeyId = options.accessKeyId ?? 'LTAI-emulator-key';
  const accessKeySecret = options.accessKeySecret ?? 'emulator-secret';
  const credentials = new Map([[accessKeyId, accessKeySecret]]);
  const nonces = new NonceCache();
  const faults: Fault[] = [];
  const calls: OpenPlatformEmulator['calls'] = [];

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const requestId = newRequestId();
    const answer = (status: number, payload: unknown) => sendJson(res, status, requestId, payload);
    const fail = (error: unknown) => {
      const e = error instanceof AliError ? error : new AliError('InternalError', 500, `${KNOWN_ERRORS.InternalError.message} (${String((error as Error)?.message ?? error)})`);
      answer(e.httpStatus, { ...errorBody(requestId, e.code, e.message), HostId: HOST_ID });
    };
    readBody(req)
      .then((body) => {
        const url = new URL(req.url ?? '/', 'http://openplatform.invalid');
        if (url.pathname !== '/') throw aliError('InvalidAction.NotFound', `Path: ${url.pathname}`);
        const contentType = (req.headers['content-type'] ?? '').toLowerCase();
        const form = contentType.startsWith('application/x-www-form-urlencoded') ? parseParams(body.toString('utf8')) : {};
        const rawUrl = req.url ?? '/';
        const rawQuery = rawUrl.includes('?') ? rawUrl.slice(rawUrl.indexOf('?') + 1).split('#')[0] : '';
        const auth = authenticate({ method: req.method ?? 'GET', pathname: url.pathname, headers: req.headers, query: parseParams(rawQuery), form, body }, credentials, nonces);
        const action = auth.action ?? '';
        const call: OpenPlatformEmulator['calls'][number] = { action, params: { ...auth.params }, method: req.method ?? 'GET', at: Date.now() };
        calls.push(call);
        if (!auth.action) throw missingParameter('Action');
        if (!auth.version) throw missingParameter('Version');
        if (auth.version !== OPEN_PLATFORM_VERSION) throw aliError('InvalidVersion', `Received ${auth.version}; this product is ${OPEN_PLATFORM_VERSION}.`);
        if (action !== 'AuthorizeFileUpload') throw aliError('InvalidAction.NotFound', `Action: ${action}`);
        const faultIndex = faults.findIndex((fault) => fault.action === undefined || fault.action === action);
        if (faultIndex >= 0) {
          const fault = faults[faultIndex];
          fault.remaining -= 1;
          if (fault.remaining <= 0) faults.splice(faultIndex, 1);
          throw new AliError(fault.code, fault.httpStatus, fault.message ?? KNOWN_ERRORS[fault.code]?.message ?? fault.code);
        }
        if (!auth.params.Product) throw missingParameter('Product');
        if (!PRODUCTS.has(auth.params.Product)) throw new AliError('InvalidParameter', 400, `The specified parameter "Product" is not valid: ${auth.params.Product}`);
        if (auth.params.RegionId !== undefined && auth.params.RegionId !== 'cn-shanghai') {
          throw new AliError('InvalidParameter', 400, `The specified parameter "RegionId" is not valid: ${auth.params.RegionId}; uploads go to cn-shanghai.`);
        }
        call.grant = options.oss.issueGrant();
        answer(200, { RequestId: requestId, ...call.grant });
      })
      .catch(fail);
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;

  return {
    endpoint: `127.0.0.1:${port}`,
    calls,
    injectFault(fault) {
      faults.push({ ...(fault.action !== undefined ? { action: fault.action } : {}), code: fault.code, httpStatus: fault.httpStatus, ...(fault.message !== undefined ? { message: fault.message } : {}), remaining: fault.times ?? 1 });
    },
    clearFaults() {
      faults.length = 0;
    },
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
