/**
 * A loopback emulator of Alibaba Cloud imageseg (2019-12-30) for tests: the real RPC protocol
 * (ACS3-HMAC-SHA256 and RPC v1 signatures verified), the reference's parameters, error codes and
 * response shapes, async jobs through GetAsyncJobResult, real image results computed with sharp,
 * and temporary result URLs served by the emulator itself.
 *
 *   const emu = await startAlibabaEmulator();
 *   // IMAGESEG_ENDPOINT = emu.endpoint, protocol http, keys emu.accessKeyId / emu.accessKeySecret
 *   …
 *   await emu.close();
 */
import type { AddressInfo } from 'node:net';
import { NonceCache } from './auth.js';
import { BlobStore } from './blobs.js';
import { KNOWN_ERRORS } from './errors.js';
import { JobStore } from './jobs.js';
import { createEmulatorServer, type EmulatorState } from './server.js';

export { ACTIONS, ASYNC_SUBMIT_MESSAGE, isAsyncCall, type ActionSpec, type AsyncMode, type ParamSpec } from './actions.js';
export { KNOWN_ERRORS, HOST_ID } from './errors.js';
export { API_VERSION } from './server.js';
// The upload side of the SDK's `*Advance` methods: AuthorizeFileUpload and the OSS bucket it grants.
export { startOpenPlatformEmulator, OPEN_PLATFORM_VERSION, type OpenPlatformEmulator, type OpenPlatformEmulatorOptions } from './openplatform.js';
export { startOssEmulator, type OssEmulator, type OssEmulatorOptions, type OssFault, type OssUpload, type OssUploadGrant } from './oss.js';
export { createSelfSignedCertificate, type SelfSignedCertificate } from './tls.js';

export interface EmulatorOptions {
  accessKeyId?: string;
  accessKeySecret?: string;
  /** ms a job spends QUEUING then PROCESSING (default 300 / 700) */
  jobTimings?: { queuingMs: number; processingMs: number };
  /** timeout for downloading input images (default 2000 ms, the reference's SegmentAnimal note) */
  downloadTimeoutMs?: number;
  /** host name in result and hosted-image URLs (default 127.0.0.1), e.g. `localhost` so clients must resolve a name */
  urlHost?: string;
}

export interface InjectedFault {
  /** any Action if omitted */
  action?: string;
  code: string;
  httpStatus: number;
  message?: string;
  /** default 1 */
  times?: number;
}

export interface AlibabaEmulator {
  /** "127.0.0.1:<port>" — what IMAGESEG_ENDPOINT is set to (protocol http) */
  endpoint: string;
  /** "http://<urlHost, default 127.0.0.1>:<port>": where result and hosted-image URLs point */
  baseUrl: string;
  accessKeyId: string;
  accessKeySecret: string;
  /** every accepted (signature-valid) call, in arrival order; `ms`: how long the answer took here, once sent */
  calls: Array<{ action: string; params: Record<string, string>; at: number; ms?: number }>;
  /** the next matching call(s) answer with this error */
  injectFault(fault: InjectedFault): void;
  /** drop every injected fault and delay that has not fired yet */
  clearFaults(): void;
  /** the next call of that Action answers only after ms */
  delayNext(action: string, ms: number): void;
  /** the next async job ends PROCESS_FAILED with ErrorCode / ErrorMessage */
  failNextJob(code?: string, message?: string): void;
  /** serve bytes from the emulator (like a public OSS object); returns its URL */
  hostImage(bytes: Buffer, contentType?: string): string;
  /**
   * Input image URLs this route answers for are downloaded from the URL it returns instead: how a test makes
   * names that resolve nowhere (an OSS emulator's `{Bucket}.{Endpoint}`) reachable, e.g. `oss.loopbackUrl`.
   */
  addDownloadRoute(route: (url: URL) => string | undefined): void;
  /** ms timestamp when a job turned PROCESS_SUCCESS / PROCESS_FAILED */
  jobCompletedAt(jobId: string): number | undefined;
  close(): Promise<void>;
}

export async function startAlibabaEmulator(options: EmulatorOptions = {}): Promise<AlibabaEmulator> {
  const accessKeyId = options.accessKeyId ?? 'LTAI-emulator-key';
  const accessKeySecret = options.accessKeySecret ?? 'emulator-secret';
  let baseUrl = '';
  const jobs = new JobStore(options.jobTimings ?? { queuingMs: 300, processingMs: 700 });
  const state: EmulatorState = {
    credentials: new Map([[accessKeyId, accessKeySecret]]),
    calls: [],
    faults: [],
    delays: new Map(),
    jobs,
    blobs: new BlobStore(() => baseUrl),
    nonces: new NonceCache(),
    downloadTimeoutMs: options.downloadTimeoutMs ?? 2000,
    downloadRoutes: [],
  };
  const server = createEmulatorServer(state);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const endpoint = `127.0.0.1:${port}`;
  baseUrl = `http://${options.urlHost ?? '127.0.0.1'}:${port}`;

  return {
    endpoint,
    baseUrl,
    accessKeyId,
    accessKeySecret,
    calls: state.calls,
    injectFault(fault) {
      state.faults.push({ ...(fault.action !== undefined ? { action: fault.action } : {}), code: fault.code, httpStatus: fault.httpStatus, ...(fault.message !== undefined ? { message: fault.message } : {}), remaining: fault.times ?? 1 });
    },
    clearFaults() {
      state.faults.length = 0;
      state.delays.clear();
    },
    delayNext(action, ms) {
      const queue = state.delays.get(action) ?? [];
      queue.push(ms);
      state.delays.set(action, queue);
    },
    failNextJob(code = 'InternalError.Algo', message = KNOWN_ERRORS['InternalError.Algo'].message) {
      jobs.failNext(code, message);
    },
    hostImage(bytes, contentType) {
      return state.blobs.putHosted(bytes, contentType);
    },
    addDownloadRoute(route) {
      state.downloadRoutes.push(route);
    },
    jobCompletedAt(jobId) {
      return jobs.completedAt(jobId);
    },
    async close() {
      jobs.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
