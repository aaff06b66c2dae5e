/**
 * Authenticates one RPC request the way the POP gateway does, with the signing rules of
 * ./signature.ts. Two styles are accepted:
 *  - ACS3-HMAC-SHA256 (`Authorization` header; what the SDK's callApi/doRequest sends):
 *    Action and Version come from the `x-acs-action` / `x-acs-version` headers.
 *  - RPC v1 HMAC-SHA1 (the reference's 公共请求参数: AccessKeyId, Signature, SignatureMethod,
 *    SignatureNonce, SignatureVersion, Timestamp, Action, Version in the query).
 * Checks, in order: signature material present (IncompleteSignature / Missing<Param>), known
 * AccessKeyId (InvalidAccessKeyId.NotFound, 404), timestamp format and 15-minute skew
 * (InvalidTimeStamp.Format / InvalidTimeStamp.Expired), signature (SignatureDoesNotMatch, 400),
 * nonce unused within 15 minutes (SignatureNonceUsed, 400).
 */
import type { IncomingHttpHeaders } from 'node:http';
import { AliError, aliError, missingParameter } from './errors.js';
import {
  ACS3_ALGORITHM,
  acs3Signature,
  acs3StringToSign,
  buildCanonicalRequest,
  parseAcs3Authorization,
  parseAcsDate,
  rpcSignature,
  rpcStringToSign,
  safeEqual,
  sha256Hex,
} from './signature.js';

export const MAX_SKEW_MS = 15 * 60 * 1000;

/** Common parameters of the RPC v1 style; everything else in the query/form is an API parameter. */
const RPC_COMMON = new Set([
  'AccessKeyId', 'Action', 'Format', 'RegionId', 'Signature', 'SignatureMethod', 'SignatureNonce',
  'SignatureVersion', 'SignatureType', 'SecurityToken', 'Timestamp', 'Version', 'BearerToken',
]);

export interface AuthInput {
  method: string;
  pathname: string;
  headers: IncomingHttpHeaders;
  /** decoded query parameters */
  query: Record<string, string>;
  /** decoded form-body parameters (application/x-www-form-urlencoded), empty otherwise */
  form: Record<string, string>;
  body: Buffer;
}

export interface Authenticated {
  style: 'ACS3' | 'RPCv1';
  accessKeyId: string;
  action: string | undefined;
  version: string | undefined;
  /** API parameters (query + form body, without the v1 common parameters). */
  params: Record<string, string>;
}

export class NonceCache {
  private readonly seen = new Map<string, number>();
  /** Record the nonce; false when it was used within the window. */
  use(nonce: string, now: number): boolean {
    for (const [n, at] of this.seen) if (now - at > MAX_SKEW_MS) this.seen.delete(n);
    if (this.seen.has(nonce)) return false;
    this.seen.set(nonce, now);
    return true;
  }
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}

function checkTimestamp(value: string, now: number): void {
  const t = parseAcsDate(value);
  if (Number.isNaN(t)) throw aliError('InvalidTimeStamp.Format', `Received "${value}"; expected YYYY-MM-DDThh:mm:ssZ.`);
  if (Math.abs(now - t) > MAX_SKEW_MS) throw aliError('InvalidTimeStamp.Expired', `Received ${value}, server time ${new Date(now).toISOString()}.`);
}

export function authenticate(input: AuthInput, credentials: ReadonlyMap<string, string>, nonces: NonceCache, now = Date.now()): Authenticated {
  const authorization = header(input.headers, 'authorization');
  if (authorization !== undefined) return authenticateAcs3(input, authorization, credentials, nonces, now);
  if ('Signature' in input.query || 'AccessKeyId' in input.query || 'SignatureMethod' in input.query) {
    return authenticateRpcV1(input, credentials, nonces, now);
  }
  if (header(input.headers, 'x-acs-action') !== undefined) {
    throw aliError('IncompleteSignature', 'The Authorization header is missing.');
  }
  throw missingParameter('AccessKeyId');
}

function authenticateAcs3(input: AuthInput, authorization: string, credentials: ReadonlyMap<string, string>, nonces: NonceCache, now: number): Authenticated {
  const auth = parseAcs3Authorization(authorization);
  if (!auth) throw aliError('IncompleteSignature', 'The Authorization header is malformed.');
  if (auth.algorithm !== ACS3_ALGORITHM) throw aliError('IncompleteSignature', `Unsupported signature algorithm ${auth.algorithm}; this endpoint verifies ${ACS3_ALGORITHM}.`);
  const mustSign = ['host', 'x-acs-action', 'x-acs-version', 'x-acs-date', 'x-acs-signature-nonce', 'x-acs-content-sha256'];
  for (const name of mustSign) {
    if (header(input.headers, name) === undefined) throw aliError('IncompleteSignature', `The ${name} header is missing.`);
  }
  const signed = new Set(auth.signedHeaders);
  for (const name of [...mustSign, ...Object.keys(input.headers).filter((h) => h.startsWith('x-acs-'))]) {
    if (!signed.has(name)) throw aliError('IncompleteSignature', `The ${name} header must be signed (SignedHeaders=${auth.signedHeaders.join(';')}).`);
  }
  for (const name of auth.signedHeaders) {
    if (input.headers[name] === undefined) throw aliError('IncompleteSignature', `Signed header ${name} is not present in the request.`);
  }
  const secret = credentials.get(auth.accessKeyId);
  if (secret === undefined) throw aliError('InvalidAccessKeyId.NotFound', `AccessKeyId: ${auth.accessKeyId}`);
  checkTimestamp(header(input.headers, 'x-acs-date')!, now);

  const hashedPayload = sha256Hex(input.body);
  const canonical = buildCanonicalRequest({
    method: input.method,
    pathname: input.pathname,
    query: input.query,
    headers: input.headers,
    signedHeaders: auth.signedHeaders,
    hashedPayload,
  });
  const stringToSign = acs3StringToSign(canonical);
  const expected = acs3Signature(secret, stringToSign);
  if (header(input.headers, 'x-acs-content-sha256') !== hashedPayload || !safeEqual(expected, auth.signature.toLowerCase())) {
    throw new AliError('SignatureDoesNotMatch', 400, `Specified signature does not match our calculation. server string to sign is:${stringToSign}`);
  }
  if (!nonces.use(header(input.headers, 'x-acs-signature-nonce')!, now)) throw aliError('SignatureNonceUsed');
  return {
    style: 'ACS3',
    accessKeyId: auth.accessKeyId,
    action: header(input.headers, 'x-acs-action'),
    version: header(input.headers, 'x-acs-version'),
    params: { ...input.query, ...input.form },
  };
}

function authenticateRpcV1(input: AuthInput, credentials: ReadonlyMap<string, string>, nonces: NonceCache, now: number): Authenticated {
  const all = { ...input.query, ...input.form };
  for (const name of ['AccessKeyId', 'Signature', 'SignatureMethod', 'SignatureVersion', 'SignatureNonce', 'Timestamp']) {
    if (!all[name]) throw missingParameter(name);
  }
  if (all.SignatureMethod !== 'HMAC-SHA1') throw new AliError('InvalidParameter', 400, 'The specified parameter "SignatureMethod" is not valid.');
  if (all.SignatureVersion !== '1.0') throw new AliError('InvalidParameter', 400, 'The specified parameter "SignatureVersion" is not valid.');
  const secret = credentials.get(all.AccessKeyId);
  if (secret === undefined) throw aliError('InvalidAccessKeyId.NotFound', `AccessKeyId: ${all.AccessKeyId}`);
  checkTimestamp(all.Timestamp, now);
  const stringToSign = rpcStringToSign(input.method, all);
  if (!safeEqual(rpcSignature(secret, stringToSign), all.Signature)) {
    throw new AliError('SignatureDoesNotMatch', 400, `Specified signature does not match our calculation. server string to sign is:${stringToSign}`);
  }
  if (!nonces.use(all.SignatureNonce, now)) throw aliError('SignatureNonceUsed');
  const params: Record<string, string> = {};
  for (const [k, v] of Object.entries(all)) if (!RPC_COMMON.has(k)) params[k] = v;
  return { style: 'RPCv1', accessKeyId: all.AccessKeyId, action: all.Action, version: all.Version, params };
}
