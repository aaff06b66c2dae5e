import http from 'node:http';
import { isIP } from 'node:net';
import { AppError } from '../errors.js';
import { httpsModule } from './https-module.js';
import { addressRefusal, guardedLookup, isPublicAddress, resolveChecked, type HostResolver } from './address-guard.js';
import { keptAliveAgent, type CheckedAddresses } from './kept-alive-agent.js';
import { describeBytes } from './sizes.js';

/** How a URL is fetched: guarded against private addresses, bounded in time, redirects and size. */
export interface FetchOptions {
  allowPrivateUrls: boolean;
  timeoutMs: number;
  maxRedirects: number;
  /** How host names become addresses (each one checked); default the system resolver. Tests map made-up names. */
  resolve?: HostResolver;
  /** The call's signal: a cancelled call stops fetching at once. */
  signal?: AbortSignal;
}

/** A URL as it may be shown and logged: user name and password removed. */
export function redactUrl(url: URL | string): string {
  let parsed: URL;
  try {
    parsed = typeof url === 'string' ? new URL(url) : new URL(url.href);
  } catch {
    return String(url).replace(/\/\/[^/@]*@/, '//');
  }
  if (!parsed.username && !parsed.password) return parsed.href;
  parsed.username = '';
  parsed.password = '';
  return parsed.href;
}

function unreachableAt(url: URL, field: string) {
  return (reason: string, cause?: unknown) =>
    new AppError('IMAGE_UNREACHABLE', `${field}: could not fetch ${redactUrl(url)}: ${reason}`, {
      details: { field, url: redactUrl(url) },
      cause,
    });
}

function refusalReason(error: NodeJS.ErrnoException): string {
  return error.code === 'ADDRESS_REFUSED' ? 'private or loopback addresses are refused' : error.message;
}

/**
 * Every request checks its address first: an IP literal as it is, a host name by resolving it and checking every
 * answer. The connection then goes to those answers only, on a kept-alive socket pooled under exactly them.
 */
async function fetchBytes(url: URL, field: string, maxBytes: number, options: FetchOptions, redirectsLeft: number, deadline: number): Promise<Buffer> {
  const unreachable = unreachableAt(url, field);
  const hostname = url.hostname.replace(/^\[|\]$/g, '');
  if (isIP(hostname)) {
    if (!options.allowPrivateUrls && !isPublicAddress(hostname)) throw unreachable('private or loopback addresses are refused', addressRefusal(hostname));
    return requestBytes(url, field, maxBytes, options, redirectsLeft, deadline, undefined);
  }
  const answers = await resolveChecked(hostname, options).catch((error: NodeJS.ErrnoException) => {
    throw unreachable(refusalReason(error), error);
  });
  return requestBytes(url, field, maxBytes, options, redirectsLeft, deadline, answers);
}

function requestBytes(url: URL, field: string, maxBytes: number, options: FetchOptions, redirectsLeft: number, deadline: number, answers: Array<{ address: string; family: number }> | undefined): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const unreachable = unreachableAt(url, field);
    const remaining = deadline - Date.now();
    if (remaining <= 0) return reject(unreachable(`no complete answer within ${options.timeoutMs} ms`));
    const client = url.protocol === 'https:' ? httpsModule() : http;
    // A new socket connects only to the answers checked above; a pooled one was opened to the same checked answers.
    const addressed: http.RequestOptions & CheckedAddresses = answers
      ? { lookup: guardedLookup({ allowPrivateUrls: options.allowPrivateUrls, resolve: async () => answers }), checkedAddresses: answers.map((answer) => answer.address).sort().join(',') }
      : {};
    let answered = false;
    const request = client.get(url, { agent: keptAliveAgent(url.protocol), ...addressed, ...(options.signal ? { signal: options.signal } : {}), timeout: Math.min(remaining, options.timeoutMs), headers: { accept: 'image/*' } }, (response) => {
      answered = true;
      const status = response.statusCode ?? 0;
      if (status >= 300 && status < 400 && response.headers.location) {
        response.resume();
        clearTimeout(overall);
        if (redirectsLeft <= 0) return reject(unreachable('too many redirects'));
        let next: URL;
        try {
          next = new URL(response.headers.location, url);
        } catch {
          return reject(unreachable('redirect to an invalid URL'));
        }
        if (next.protocol !== 'http:' && next.protocol !== 'https:') return reject(unreachable(`redirect to ${next.protocol} refused`));
        fetchBytes(next, field, maxBytes, options, redirectsLeft - 1, deadline).then(resolve, reject);
        return;
      }
      if (status !== 200) {
        response.resume();
        clearTimeout(overall);
        return reject(unreachable(`HTTP ${status}`));
      }
      const declared = Number(response.headers['content-length'] ?? 0);
      if (declared > maxBytes) {
        request.destroy();
        clearTimeout(overall);
        return reject(tooLarge(field, maxBytes, url));
      }
      const chunks: Buffer[] = [];
      let received = 0;
      response.on('data', (chunk: Buffer) => {
        received += chunk.length;
        if (received > maxBytes) {
          request.destroy();
          clearTimeout(overall);
          reject(tooLarge(field, maxBytes, url));
          return;
        }
        chunks.push(chunk);
      });
      response.on('end', () => {
        clearTimeout(overall);
        resolve(Buffer.concat(chunks));
      });
      response.on('error', (error) => reject(unreachable(error.message, error)));
    });
    // An idle timeout alone lets a server trickle one byte at a time forever; this bounds the whole exchange.
    const overall = setTimeout(() => request.destroy(new Error(`no complete answer within ${options.timeoutMs} ms`)), remaining);
    request.on('timeout', () => request.destroy(new Error(`no answer within ${options.timeoutMs} ms`)));
    request.on('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(overall);
      // A kept-alive socket the server closed as it was taken: asked again, on another connection.
      if (request.reusedSocket && !answered && error.code === 'ECONNRESET') {
        requestBytes(url, field, maxBytes, options, redirectsLeft, deadline, answers).then(resolve, reject);
        return;
      }
      reject(unreachable(refusalReason(error), error));
    });
  });
}

/** Fetches an http(s) URL under the same guard, redirect and size rules as user inputs (used for result images too). */
export function fetchImageBytes(url: string, field: string, maxBytes: number, options: FetchOptions): Promise<Buffer> {
  return fetchBytes(new URL(url), field, maxBytes, options, options.maxRedirects, Date.now() + options.timeoutMs);
}

function tooLarge(field: string, maxBytes: number, url: URL): AppError {
  return new AppError('IMAGE_TOO_LARGE', `${field}: more than ${describeBytes(maxBytes)} at ${redactUrl(url)}`, { details: { field, limitBytes: maxBytes } });
}

