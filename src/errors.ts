import { randomBytes } from 'node:crypto';

/** Error codes of the public contract (docs/ARCHITECTURE.md; users' table in docs/http-api.md); each maps to one HTTP status. */
export const ERROR_STATUS = {
  INVALID_ARGUMENT: 400,
  UNAUTHORIZED: 401,
  NOT_FOUND: 404,
  IDEMPOTENCY_IN_PROGRESS: 409,
  PAYMENT_REQUIRED: 402,
  PAYMENT_INVALID: 402,
  IMAGE_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  IMAGE_INVALID: 422,
  IMAGE_UNREACHABLE: 422,
  IDEMPOTENCY_KEY_REUSED: 422,
  CONTENT_REJECTED: 422,
  UPSTREAM_THROTTLED: 429,
  RATE_LIMITED: 429,
  UPSTREAM_ERROR: 502,
  JOB_FAILED: 502,
  JOB_TIMEOUT: 504,
  PROVIDER_NOT_CONFIGURED: 503,
  SERVER_BUSY: 503,
  SHUTTING_DOWN: 503,
  INTERNAL: 500,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

/**
 * What became of the caller's money, on every error answer: nothing was reserved, it was reserved and given back,
 * it is held for a job that outlived its deadline, or (an x402-paid batch's failed item) it came back as a token.
 */
export type FailedPayment = 'none' | 'released' | 'held' | 'credited';

export interface ErrorBody {
  error: { code: ErrorCode; message: string; retryable: boolean; details: { payment: FailedPayment; charged: false; [fact: string]: unknown } };
}

/** The one error type of the product: thrown deep, translated to HTTP or MCP only at the edge. */
export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly options: {
      retryable?: boolean;
      details?: Record<string, unknown>;
      cause?: unknown;
      /** When a retry may succeed: HTTP Retry-After, and `details.retryAfterSeconds` everywhere. */
      retryAfterSeconds?: number;
    } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = 'AppError';
  }

  get retryable(): boolean {
    return this.options.retryable ?? false;
  }

  get httpStatus(): number {
    return ERROR_STATUS[this.code];
  }

  /** An error that never reached a reservation says so: only the call and batch pipelines reserve, and they set it. */
  toBody(): ErrorBody {
    const { retryAfterSeconds } = this.options;
    const details = { payment: 'none' as FailedPayment, ...this.options.details, charged: false as const, ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }) };
    return { error: { code: this.code, message: this.message, retryable: this.retryable, details } };
  }
}

/** The same error, saying what became of the money (and, held, which job holds it until when). */
export function withPayment(error: AppError, payment: FailedPayment, held?: { jobId: string; heldUntil: number }): AppError {
  const until = held && new Date(held.heldUntil).toISOString();
  const message = held
    ? `${error.message}. Its payment is held, not taken, until ${until}: collect the result with async_job_result {"JobId":"${held.jobId}"} and the same credentials (payment token or x402 payer)`
    : error.message;
  const details = { ...error.options.details, payment, charged: false, ...(held ? { jobId: held.jobId, heldUntil: until } : {}) };
  // A subclass (an x402 payment answer) is answered as the x402 object, whatever its details say.
  if (Object.getPrototypeOf(error) !== AppError.prototype) return error;
  return new AppError(error.code, message, { ...error.options, details });
}

export const paymentOf = (error: AppError): FailedPayment | undefined => error.options.details?.payment as FailedPayment | undefined;

/**
 * Any error as ours. An unexpected one keeps its own message out of the answer (it may name files, hosts or SQL):
 * clients get a reference that the server log carries beside the real message (`operatorMessage`).
 */
export function toAppError(error: unknown): AppError {
  if (error instanceof AppError) return error;
  const reference = randomBytes(4).toString('hex');
  return new AppError('INTERNAL', `Internal error (reference ${reference}); the server log has the details`, { cause: error, details: { reference } });
}

/** What the operator reads (logs, the terminal): an unexpected error's own message too. */
export function operatorMessage(error: AppError): string {
  if (error.code !== 'INTERNAL' || !(error.cause instanceof Error) || error.cause instanceof AppError) return error.message;
  return `${error.message}: ${error.cause.message}`;
}
