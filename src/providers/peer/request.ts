import { AppError } from '../../errors.js';
import type { ProviderName } from '../../config.js';

export interface PeerResponse {
  status: number;
  headers: Headers;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  body: unknown;
}

export interface PeerRequestOptions {
  provider: ProviderName;
  /** The call's signal: a cancelled call stops the request at once. */
  signal?: AbortSignal;
  /** A provider that has not answered within this long has timed out (UPSTREAM_ERROR, so the next provider is tried). */
  silenceMs: number;
}

/** One HTTP exchange with a peer API: its answer whatever the status; transport failures and silence as our errors. */
export async function requestPeer(url: string, init: RequestInit, options: PeerRequestOptions): Promise<PeerResponse> {
  const silence = AbortSignal.timeout(options.silenceMs);
  const signal = options.signal ? AbortSignal.any([options.signal, silence]) : silence;
  try {
    const response = await fetch(url, { ...init, signal, redirect: 'error' });
    const text = await response.text();
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      body = undefined;
    }
    return { status: response.status, headers: response.headers, body };
  } catch (error) {
    if (options.signal?.aborted) throw options.signal.reason;
    const timedOut = silence.aborted;
    const reason = timedOut ? `no answer within ${Math.round(options.silenceMs / 1000)} s` : (error as Error).cause instanceof Error ? ((error as Error).cause as Error).message : (error as Error).message;
    throw new AppError('UPSTREAM_ERROR', `${options.provider} could not be reached: ${reason}`, {
      retryable: true,
      details: { provider: options.provider, ...(timedOut ? { timedOut: true } : {}) },
      cause: error,
    });
  }
}

/** Seconds from a Retry-After header (delta-seconds form), when present and sane. */
export function retryAfterOf(headers: Headers): number | undefined {
  const value = Number(headers.get('retry-after'));
  return Number.isFinite(value) && value > 0 ? Math.ceil(value) : undefined;
}
