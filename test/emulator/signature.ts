/**
 * Server side of Alibaba Cloud's request signatures, reproduced from the SDK's signing code
 * (node_modules/@alicloud/openapi-core/dist/utils.js: getAuthorization, getRPCSignature) so that
 * the emulator verifies real signatures made by the real SDK.
 *
 * ACS3-HMAC-SHA256 (what `callApi` uses by default):
 *   CanonicalRequest = Method \n CanonicalURI \n CanonicalQueryString \n CanonicalHeaders \n SignedHeaders \n HashedPayload
 *     CanonicalQueryString: params sorted by name, `name=percentEncode(value)` joined by `&`
 *     CanonicalHeaders:     for each signed header (lower-case, sorted) `name:trimmed value\n`
 *                           (so the canonical request has an empty line after the headers)
 *     SignedHeaders:        signed header names joined by `;`
 *     HashedPayload:        hex sha256 of the body (the `x-acs-content-sha256` header)
 *   StringToSign = "ACS3-HMAC-SHA256\n" + hex(sha256(CanonicalRequest))
 *   Signature    = hex(hmac-sha256(AccessKeySecret, StringToSign))
 *   Authorization: ACS3-HMAC-SHA256 Credential=<AccessKeyId>,SignedHeaders=<a;b;c>,Signature=<hex>
 *
 * RPC v1 (HMAC-SHA1, the reference's "公共请求参数"; used by the SDK when Config.signatureAlgorithm = 'v2'):
 *   StringToSign = Method & percentEncode("/") & percentEncode(sorted `enc(k)=enc(v)` joined by `&`)
 *   Signature    = base64(hmac-sha1(AccessKeySecret + "&", StringToSign)), sent as the `Signature` query param.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export const ACS3_ALGORITHM = 'ACS3-HMAC-SHA256';

/** RFC 3986 encoding exactly as the SDK's `encode`: encodeURIComponent plus `!'()*`. */
export function percentEncode(value: string): string {
  return encodeURIComponent(value)
    .replace(/!/g, '%21')
    .replace(/'/g, '%27')
    .replace(/\(/g, '%28')
    .replace(/\)/g, '%29')
    .replace(/\*/g, '%2A');
}

export function sha256Hex(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** JavaScript's default sort (UTF-16 code units), the order the SDK uses. */
function sortedKeys(obj: Record<string, string>): string[] {
  return Object.keys(obj).sort();
}

export function canonicalQueryString(query: Record<string, string>): string {
  return sortedKeys(query)
    .map((key) => `${percentEncode(key)}=${percentEncode(query[key] ?? '')}`)
    .join('&');
}

export function canonicalUri(pathname: string): string {
  return (pathname || '').replace(/\+/g, '%20').replace(/\*/g, '%2A').replace(/%7E/g, '~');
}

/**
 * Canonical headers for the given signed header names, read from a request's headers
 * (Node lower-cases incoming header names; values may be arrays when a header repeats).
 */
export function canonicalHeaders(
  headers: Record<string, string | string[] | undefined>,
  signedHeaders: readonly string[],
): string {
  let out = '';
  for (const name of [...signedHeaders].sort()) {
    const raw = headers[name];
    const values = (Array.isArray(raw) ? raw : [raw ?? '']).map((v) => v.trim()).sort();
    out += `${name}:${values.join(',')}\n`;
  }
  return out;
}

export interface CanonicalRequestInput {
  method: string;
  pathname: string;
  query: Record<string, string>;
  headers: Record<string, string | string[] | undefined>;
  signedHeaders: readonly string[];
  hashedPayload: string;
}

export function buildCanonicalRequest(input: CanonicalRequestInput): string {
  const signed = [...input.signedHeaders].sort();
  return [
    input.method.toUpperCase(),
    canonicalUri(input.pathname),
    canonicalQueryString(input.query),
    canonicalHeaders(input.headers, signed),
    signed.join(';'),
    input.hashedPayload,
  ].join('\n');
}

export function acs3StringToSign(canonicalRequest: string): string {
  return `${ACS3_ALGORITHM}\n${sha256Hex(canonicalRequest)}`;
}

export function acs3Signature(secret: string, stringToSign: string): string {
  return createHmac('sha256', secret).update(stringToSign).digest('hex');
}

export interface Acs3Authorization {
  algorithm: string;
  accessKeyId: string;
  signedHeaders: string[];
  signature: string;
}

/** Parse `ACS3-HMAC-SHA256 Credential=AK,SignedHeaders=a;b,Signature=hex`; null when malformed. */
export function parseAcs3Authorization(header: string | undefined): Acs3Authorization | null {
  if (!header) return null;
  const match = /^(\S+)\s+(.*)$/.exec(header.trim());
  if (!match) return null;
  const algorithm = match[1];
  const fields = new Map<string, string>();
  for (const part of match[2].split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) return null;
    fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const accessKeyId = fields.get('Credential');
  const signedHeaders = fields.get('SignedHeaders');
  const signature = fields.get('Signature');
  if (!accessKeyId || !signedHeaders || !signature) return null;
  return {
    algorithm,
    accessKeyId,
    signedHeaders: signedHeaders.split(';').map((h) => h.trim().toLowerCase()).filter(Boolean),
    signature,
  };
}

export function safeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a);
  const bb = Buffer.from(b);
  return ab.length === bb.length && timingSafeEqual(ab, bb);
}

/** RPC v1 (HMAC-SHA1) string to sign over every signed parameter except `Signature`. */
export function rpcStringToSign(method: string, params: Record<string, string>): string {
  const canonicalized = sortedKeys(params)
    .filter((k) => k !== 'Signature')
    .map((k) => `${percentEncode(k)}=${percentEncode(params[k] ?? '')}`)
    .join('&');
  return `${method.toUpperCase()}&${percentEncode('/')}&${percentEncode(canonicalized)}`;
}

export function rpcSignature(secret: string, stringToSign: string): string {
  return createHmac('sha1', `${secret}&`).update(stringToSign).digest('base64');
}

/** `YYYY-MM-DDTHH:mm:ssZ` (what the SDK sends in x-acs-date / Timestamp) to epoch ms; NaN if malformed. */
export function parseAcsDate(value: string | undefined): number {
  if (!value || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/.test(value)) return Number.NaN;
  return Date.parse(value);
}
