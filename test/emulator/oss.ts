/**
 * A loopback emulator of the OSS side of the SDK's `*Advance` uploads: the temporary bucket that
 * AuthorizeFileUpload hands out. It issues grants (what ./openplatform.ts answers) and then checks every
 * PostObject against them the way OSS does: virtual-hosted bucket, OSSAccessKeyId, Signature =
 * base64(HMAC-SHA1(secret, policy)), policy expiration and conditions (content-length-range, `$key`, bucket),
 * the file as the last part of the form; it stores the object and serves it back over GET.
 *
 * The SDK posts to `https://{Bucket}.{Endpoint}/` and Alibaba fetches `http://{Bucket}.{Endpoint}/{ObjectKey}`, so
 * one port speaks both: the first byte of a connection (0x16, a TLS handshake) picks HTTPS or plain HTTP. The
 * Endpoint it grants is `<endpointHost>:<port>`, a name under `.test` that resolves nowhere: clients reach it
 * through `createAgent()` (trusts the self-signed certificate, resolves the names to 127.0.0.1) or, for plain
 * downloads, `loopbackUrl()` (the path-style URL `http://127.0.0.1:<port>/<bucket>/<key>`).
 */
import { createHash, createHmac, randomBytes, randomUUID } from 'node:crypto';
import { createServer as createNetServer, type AddressInfo, type LookupFunction, type Socket } from 'node:net';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { Agent as HttpsAgent, createServer as createHttpsServer } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { safeEqual } from './signature.js';
import { createSelfSignedCertificate } from './tls.js';

const MAX_POST_BYTES = 64 * 1024 * 1024;

export interface OssEmulatorOptions {
  /** the Endpoint without its port (default oss-cn-shanghai.emulator.test) */
  endpointHost?: string;
  /** the bucket grants name (default viapi-customer-temp-emulator) */
  bucket?: string;
  /** how long an issued policy stays valid (default 30 minutes) */
  policyTtlMs?: number;
  /** the policy's content-length-range maximum (default 50 MB) */
  maxObjectBytes?: number;
}

/** AuthorizeFileUpload's answer, field names as Alibaba sends them. */
export interface OssUploadGrant {
  AccessKeyId: string;
  Bucket: string;
  Endpoint: string;
  EncodedPolicy: string;
  ObjectKey: string;
  Signature: string;
  UseAccelerate: boolean;
}

export interface OssUpload {
  bucket: string;
  key: string;
  bytes: Buffer;
  contentType: string;
  /** the form fields before the file, as received */
  fields: Record<string, string>;
  overTls: boolean;
  at: number;
}

export interface OssFault {
  httpStatus: number;
  code: string;
  message?: string;
  /** default 1 */
  times?: number;
}

export interface OssEmulator {
  /** `<endpointHost>:<port>`: the Endpoint grants carry */
  endpoint: string;
  endpointHost: string;
  port: number;
  bucket: string;
  /** PEM of the self-signed certificate for `*.<endpointHost>` */
  certificate: string;
  /** every accepted PostObject, in arrival order */
  uploads: OssUpload[];
  /** a new grant for one object key, signed with the emulator's OSS secret */
  issueGrant(): OssUploadGrant;
  /** an https.Agent that trusts the certificate and resolves `<endpointHost>` and its subdomains to 127.0.0.1 */
  createAgent(): HttpsAgent;
  /** resolves `<endpointHost>` and its subdomains to 127.0.0.1, anything else to ENOTFOUND */
  lookup: LookupFunction;
  /** `http://127.0.0.1:<port>/<bucket>/<key>` for a URL of this emulator's buckets; undefined for other URLs */
  loopbackUrl(url: URL | string): string | undefined;
  /** the next PostObject(s) answer with this OSS error */
  injectFault(fault: OssFault): void;
  clearFaults(): void;
  close(): Promise<void>;
}

interface FormPart {
  name: string;
  filename?: string;
  contentType?: string;
  content: Buffer;
}

class OssError extends Error {
  constructor(readonly httpStatus: number, readonly code: string, message: string) {
    super(message);
  }
}

export async function startOssEmulator(options: OssEmulatorOptions = {}): Promise<OssEmulator> {
  const endpointHost = (options.endpointHost ?? 'oss-cn-shanghai.emulator.test').toLowerCase();
  const bucket = options.bucket ?? 'viapi-customer-temp-emulator';
  const policyTtlMs = options.policyTtlMs ?? 30 * 60 * 1000;
  const maxObjectBytes = options.maxObjectBytes ?? 50 * 1024 * 1024;
  const ossAccessKeyId = `LTAI-emulator-oss-${randomBytes(4).toString('hex')}`;
  const ossSecret = randomBytes(24).toString('base64');
  const { certificate, key } = createSelfSignedCertificate([`*.${endpointHost}`, endpointHost]);
  const objects = new Map<string, { bytes: Buffer; contentType: string }>();
  const uploads: OssUpload[] = [];
  const faults: Array<OssFault & { remaining: number }> = [];
  let port = 0;

  const signPolicy = (encodedPolicy: string) => createHmac('sha1', ossSecret).update(encodedPolicy).digest('base64');

  /** Which bucket and key a request names: virtual-hosted `{bucket}.{endpointHost}`, or path-style on loopback. */
  function locate(req: IncomingMessage): { bucket: string; key: string } | undefined {
    const host = (req.headers.host ?? '').toLowerCase().replace(/:\d+$/, '');
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://oss.invalid').pathname);
    if (host.endsWith(`.${endpointHost}`)) return { bucket: host.slice(0, -endpointHost.length - 1), key: path.slice(1) };
    if (host === '127.0.0.1' || host === 'localhost') {
      const [, name = '', ...rest] = path.split('/');
      return { bucket: name, key: rest.join('/') };
    }
    return undefined;
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = randomUUID().replace(/-/g, '').slice(0, 24).toUpperCase();
    const target = locate(req);
    try {
      if (!target || target.bucket !== bucket) throw new OssError(404, 'NoSuchBucket', 'The specified bucket does not exist.');
      if (req.method === 'POST' && target.key === '') {
        const body = await readBody(req);
        const fault = faults[0];
        if (fault) {
          fault.remaining -= 1;
          if (fault.remaining <= 0) faults.shift();
          throw new OssError(fault.httpStatus, fault.code, fault.message ?? fault.code);
        }
        const upload = postObject(req, body, target.bucket);
        uploads.push(upload);
        objects.set(`${upload.bucket}/${upload.key}`, { bytes: upload.bytes, contentType: upload.contentType });
        const status = ['200', '201'].includes(upload.fields.success_action_status ?? '') ? Number(upload.fields.success_action_status) : 204;
        const location = `https://${bucket}.${endpointHost}:${port}/${upload.key}`;
        const xml = status === 201
          ? `<?xml version="1.0" encoding="UTF-8"?>\n<PostResponse>\n  <Bucket>${bucket}</Bucket>\n  <Location>${location}</Location>\n  <Key>${upload.key}</Key>\n  <ETag>"${createHash('md5').update(upload.bytes).digest('hex').toUpperCase()}"</ETag>\n</PostResponse>\n`
          : '';
        res.writeHead(status, { 'content-type': 'application/xml', 'content-length': String(Buffer.byteLength(xml)), 'x-oss-request-id': requestId });
        res.end(xml);
        return;
      }
      if (req.method === 'GET' || req.method === 'HEAD') {
        const object = objects.get(`${target.bucket}/${target.key}`);
        if (!object) throw new OssError(404, 'NoSuchKey', 'The specified key does not exist.');
        res.writeHead(200, { 'content-type': object.contentType, 'content-length': String(object.bytes.length), 'x-oss-request-id': requestId });
        res.end(req.method === 'HEAD' ? undefined : object.bytes);
        return;
      }
      throw new OssError(405, 'MethodNotAllowed', 'The specified method is not allowed against this resource.');
    } catch (error) {
      const ossError = error instanceof OssError ? error : new OssError(500, 'InternalError', String((error as Error)?.message ?? error));
      const xml = `<?xml version="1.0" encoding="UTF-8"?>\n<Error>\n  <Code>${ossError.code}</Code>\n  <Message>${escapeXml(ossError.message)}</Message>\n  <RequestId>${requestId}</RequestId>\n  <HostId>${bucket}.${endpointHost}</HostId>\n</Error>\n`;
      if (res.headersSent) return void res.destroy();
      res.writeHead(ossError.httpStatus, { 'content-type': 'application/xml', 'content-length': String(Buffer.byteLength(xml)), 'x-oss-request-id': requestId });
      res.end(req.method === 'HEAD' ? undefined : xml);
    }
  }

  /** PostObject as OSS checks it; returns the stored upload or throws the OSS error. */
  function postObject(req: IncomingMessage, body: Buffer, bucketName: string): OssUpload {
    const boundary = /^multipart\/form-data;.*boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(req.headers['content-type'] ?? '');
    if (!boundary) throw new OssError(400, 'InvalidArgument', 'The body of your POST request is not well-formed multipart/form-data.');
    const parts = parseMultipart(body, boundary[1] ?? boundary[2]);
    const fileIndex = parts.findIndex((part) => part.name === 'file');
    if (fileIndex < 0) throw new OssError(400, 'InvalidArgument', 'Bucket POST must contain a field named \'file\'.');
    // OSS reads the form up to the file; whatever follows it is ignored.
    const fields: Record<string, string> = {};
    for (const part of parts.slice(0, fileIndex)) fields[part.name] = part.content.toString('utf8');
    const file = parts[fileIndex];
    const objectKey = fields.key;
    if (!objectKey) throw new OssError(400, 'InvalidArgument', 'Bucket POST must contain a field named \'key\'.');
    if (!fields.OSSAccessKeyId) throw new OssError(403, 'AccessDenied', 'You have no right to access this object because of bucket acl.');
    if (!fields.policy || !fields.Signature) throw new OssError(400, 'InvalidArgument', 'Bucket POST must contain fields named \'policy\' and \'Signature\' when OSSAccessKeyId is given.');
    if (fields.OSSAccessKeyId !== ossAccessKeyId) throw new OssError(403, 'InvalidAccessKeyId', 'The OSS Access Key Id you provided does not exist in our records.');
    if (!safeEqual(fields.Signature, signPolicy(fields.policy))) {
      throw new OssError(403, 'SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided.');
    }
    let policy: { expiration?: string; conditions?: unknown[] };
    try {
      policy = JSON.parse(Buffer.from(fields.policy, 'base64').toString('utf8')) as typeof policy;
    } catch {
      throw new OssError(400, 'InvalidPolicyDocument', 'Invalid Policy: Invalid JSON.');
    }
    if (!policy.expiration || !(Date.parse(policy.expiration) > Date.now())) throw new OssError(403, 'AccessDenied', 'Invalid according to Policy: Policy expired.');
    for (const condition of policy.conditions ?? []) {
      const failed = () => new OssError(403, 'AccessDenied', `Invalid according to Policy: Policy Condition failed: ${JSON.stringify(condition)}`);
      if (Array.isArray(condition) && condition[0] === 'content-length-range') {
        const [, min, max] = condition as [string, number, number];
        if (file.content.length > max) throw new OssError(400, 'EntityTooLarge', 'Your proposed upload exceeds the maximum allowed size.');
        if (file.content.length < min) throw new OssError(400, 'EntityTooSmall', 'Your proposed upload is smaller than the minimum allowed size.');
      } else if (Array.isArray(condition) && condition[1] === '$key') {
        const [operator, , value] = condition as [string, string, string];
        if (operator === 'eq' && objectKey !== value) throw failed();
        if (operator === 'starts-with' && !objectKey.startsWith(value)) throw failed();
      } else if (condition && typeof condition === 'object' && 'bucket' in condition && (condition as { bucket: string }).bucket !== bucketName) {
        throw failed();
      }
    }
    return {
      bucket: bucketName,
      key: objectKey,
      bytes: Buffer.from(file.content),
      contentType: fields['Content-Type'] ?? (file.contentType || 'application/octet-stream'),
      fields,
      overTls: Boolean((req.socket as TLSSocket).encrypted),
      at: Date.now(),
    };
  }

  const onRequest = (req: IncomingMessage, res: ServerResponse) => void handle(req, res);
  const httpServer = createHttpServer(onRequest);
  const httpsServer = createHttpsServer({ cert: certificate, key }, onRequest);
  const sockets = new Set<Socket>();
  const server = createNetServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.once('data', (first: Buffer) => {
      socket.pause();
      socket.unshift(first);
      (first[0] === 0x16 ? httpsServer : httpServer).emit('connection', socket);
      process.nextTick(() => socket.resume());
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  port = (server.address() as AddressInfo).port;

  const isOurs = (hostname: string) => {
    const name = hostname.toLowerCase().replace(/\.$/, '');
    return name === endpointHost || name.endsWith(`.${endpointHost}`);
  };
  const lookup = ((hostname: string, lookupOptions: { all?: boolean }, callback: (...args: unknown[]) => void) => {
    if (!isOurs(hostname)) return callback(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND', hostname }));
    if (lookupOptions.all) return callback(null, [{ address: '127.0.0.1', family: 4 }]);
    callback(null, '127.0.0.1', 4);
  }) as unknown as LookupFunction;

  return {
    endpoint: `${endpointHost}:${port}`,
    endpointHost,
    port,
    bucket,
    certificate,
    uploads,
    lookup,
    issueGrant() {
      const objectKey = `imageseg/${new Date().toISOString().slice(0, 10)}/${randomUUID()}`;
      const policy = {
        expiration: new Date(Date.now() + policyTtlMs).toISOString(),
        conditions: [['content-length-range', 0, maxObjectBytes], ['eq', '$key', objectKey], { bucket }],
      };
      const encodedPolicy = Buffer.from(JSON.stringify(policy)).toString('base64');
      return {
        AccessKeyId: ossAccessKeyId,
        Bucket: bucket,
        Endpoint: `${endpointHost}:${port}`,
        EncodedPolicy: encodedPolicy,
        ObjectKey: objectKey,
        Signature: signPolicy(encodedPolicy),
        UseAccelerate: false,
      };
    },
    createAgent() {
      return new HttpsAgent({ ca: certificate, lookup });
    },
    loopbackUrl(url) {
      const parsed = new URL(url);
      const host = parsed.hostname.toLowerCase();
      if (!host.endsWith(`.${endpointHost}`) || Number(parsed.port) !== port) return undefined;
      return `http://127.0.0.1:${port}/${host.slice(0, -endpointHost.length - 1)}${parsed.pathname}${parsed.search}`;
    },
    injectFault(fault) {
      faults.push({ ...fault, remaining: fault.times ?? 1 });
    },
    clearFaults() {
      faults.length = 0;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      httpServer.close();
      httpsServer.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    req.on('data', (chunk: Buffer) => {
      total += chunk.length;
      if (total > MAX_POST_BYTES) {
        reject(new OssError(400, 'EntityTooLarge', 'Your proposed upload exceeds the maximum allowed size.'));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** RFC 7578 multipart/form-data, strictly framed: every part ends at CRLF + the next delimiter. */
function parseMultipart(body: Buffer, boundary: string): FormPart[] {
  const malformed = () => new OssError(400, 'MalformedPOSTRequest', 'The body of your POST request is not well-formed multipart/form-data.');
  const delimiter = Buffer.from(`--${boundary}`);
  const nextDelimiter = Buffer.from(`\r\n--${boundary}`);
  const parts: FormPart[] = [];
  let position = body.indexOf(delimiter);
  if (position !== 0) throw malformed();
  position += delimiter.length;
  while (body.toString('latin1', position, position + 2) !== '--') {
    if (body.toString('latin1', position, position + 2) !== '\r\n') throw malformed();
    const headerEnd = body.indexOf('\r\n\r\n', position + 2);
    if (headerEnd < 0) throw malformed();
    const headers = body.toString('utf8', position + 2, headerEnd).split('\r\n');
    const end = body.indexOf(nextDelimiter, headerEnd + 4);
    if (end < 0) throw malformed();
    const disposition = headers.find((line) => /^content-disposition:/i.test(line)) ?? '';
    const name = /\bname="([^"]*)"/i.exec(disposition)?.[1];
    if (name === undefined) throw malformed();
    const filename = /\bfilename="([^"]*)"/i.exec(disposition)?.[1];
    const contentType = headers.find((line) => /^content-type:/i.test(line))?.replace(/^content-type:\s*/i, '');
    parts.push({ name, ...(filename !== undefined ? { filename } : {}), ...(contentType !== undefined ? { contentType } : {}), content: body.subarray(headerEnd + 4, end) });
    position = end + nextDelimiter.length;
  }
  return parts;
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
