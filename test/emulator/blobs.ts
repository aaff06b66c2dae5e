/**
 * Object storage for the emulator, standing in for OSS:
 *  - results (`/results/<id>.<ext>`): what the Actions produce, served through temporary signed
 *    URLs like Alibaba's (`?Expires=<unix s>&OSSAccessKeyId=…&Signature=…`, valid 30 minutes);
 *    an expired or tampered link answers 403 with an OSS-style XML error, as OSS does.
 *  - hosted (`/hosted/<id>.<ext>`): input images a test puts up with hostImage(), public-read.
 */
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { contentTypeOf, sniffFormat } from './images.js';
import { safeEqual } from './signature.js';

const BUCKET = 'viapi-emulator-results';
const OSS_ACCESS_KEY_ID = 'LTAI-emulator-oss';
export const RESULT_TTL_MS = 30 * 60 * 1000;

interface Blob { bytes: Buffer; contentType: string; expiresAt?: number }

export class BlobStore {
  private readonly results = new Map<string, Blob>();
  private readonly hosted = new Map<string, Blob>();
  private readonly secret = randomBytes(24).toString('base64');

  constructor(private readonly baseUrl: () => string) {}

  private sign(path: string, expires: number): string {
    return createHmac('sha1', this.secret).update(`GET\n\n\n${expires}\n/${BUCKET}${path}`).digest('base64');
  }

  /** Store a result image; returns its temporary signed URL. */
  putResult(bytes: Buffer, ext: 'png' | 'jpg'): string {
    const name = `${randomUUID().replace(/-/g, '')}.${ext}`;
    const path = `/results/${name}`;
    const expires = Math.floor((Date.now() + RESULT_TTL_MS) / 1000);
    this.results.set(name, { bytes, contentType: ext === 'png' ? 'image/png' : 'image/jpeg', expiresAt: expires * 1000 });
    const query = new URLSearchParams({ Expires: String(expires), OSSAccessKeyId: OSS_ACCESS_KEY_ID, Signature: this.sign(path, expires) });
    return `${this.baseUrl()}${path}?${query.toString()}`;
  }

  /** Serve bytes publicly (like a public-read OSS object); returns the URL. */
  putHosted(bytes: Buffer, contentType?: string): string {
    const format = sniffFormat(bytes);
    const ext = format === 'jpeg' ? 'jpg' : format ?? 'bin';
    const name = `${randomUUID().replace(/-/g, '')}.${ext}`;
    this.hosted.set(name, { bytes: Buffer.from(bytes), contentType: contentType ?? contentTypeOf(format) });
    return `${this.baseUrl()}/hosted/${name}`;
  }

  /** Handle GET/HEAD of /results/… and /hosted/…; false when the path is not ours. */
  serve(req: IncomingMessage, res: ServerResponse, url: URL): boolean {
    const match = /^\/(results|hosted)\/([A-Za-z0-9]+\.[a-z]+)$/.exec(url.pathname);
    if (!match) return false;
    const [, kind, name] = match as unknown as [string, 'results' | 'hosted', string];
    const requestId = randomUUID().replace(/-/g, '').slice(0, 24).toUpperCase();
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      ossError(res, 405, 'MethodNotAllowed', 'The specified method is not allowed against this resource.', requestId, req.method === 'HEAD');
      return true;
    }
    const store = kind === 'results' ? this.results : this.hosted;
    const blob = store.get(name);
    if (kind === 'results') {
      const expires = Number(url.searchParams.get('Expires'));
      const signature = url.searchParams.get('Signature') ?? '';
      if (!url.searchParams.has('Expires') || !signature || url.searchParams.get('OSSAccessKeyId') !== OSS_ACCESS_KEY_ID) {
        ossError(res, 403, 'AccessDenied', 'You have no right to access this object because of bucket acl.', requestId, req.method === 'HEAD');
        return true;
      }
      if (!safeEqual(signature, this.sign(url.pathname, expires))) {
        ossError(res, 403, 'SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided.', requestId, req.method === 'HEAD');
        return true;
      }
      if (Date.now() > expires * 1000) {
        ossError(res, 403, 'AccessDenied', 'Request has expired.', requestId, req.method === 'HEAD');
        return true;
      }
    }
    if (!blob) {
      ossError(res, 404, 'NoSuchKey', 'The specified key does not exist.', requestId, req.method === 'HEAD');
      return true;
    }
    res.writeHead(200, {
      'content-type': blob.contentType,
      'content-length': String(blob.bytes.length),
      'x-oss-request-id': requestId,
      'cache-control': 'no-cache',
    });
    res.end(req.method === 'HEAD' ? undefined : blob.bytes);
    return true;
  }
}

function ossError(res: ServerResponse, status: number, code: string, message: string, requestId: string, head: boolean): void {
  const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error>\n  <Code>${code}</Code>\n  <Message>${message}</Message>\n  <RequestId>${requestId}</RequestId>\n  <HostId>${BUCKET}.oss-cn-shanghai.aliyuncs.com</HostId>\n</Error>\n`;
  res.writeHead(status, { 'content-type': 'application/xml', 'content-length': String(Buffer.byteLength(body)), 'x-oss-request-id': requestId });
  res.end(head ? undefined : body);
}
