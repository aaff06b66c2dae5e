/**
 * What the peer emulators (ailabtools, Aidge) share: a loopback HTTP server that also serves its result images
 * (the Alibaba emulator's BlobStore: temporary signed links), a queue of injected faults, "hang" faults that never
 * answer, and the cutout "model" (the Alibaba emulator's border-colour subject mask) rendered in each API's forms.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import sharp from 'sharp';
import { BlobStore } from '../emulator/blobs.js';
import { sniffFormat, type Raster } from '../emulator/images.js';
import { boundingBox, foregroundMask } from '../emulator/segment.js';

export type Handler = (req: IncomingMessage, res: ServerResponse, url: URL, body: Buffer) => Promise<void>;

export interface PeerServer {
  baseUrl: string;
  blobs: BlobStore;
  close(): Promise<void>;
}

export function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export function sendJson(res: ServerResponse, status: number, payload: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(payload);
  res.writeHead(status, { 'content-type': 'application/json;charset=utf-8', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

export async function startPeerServer(handle: Handler): Promise<PeerServer> {
  let baseUrl = '';
  const blobs = new BlobStore(() => baseUrl);
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (blobs.serve(req, res, url)) return;
    readBody(req)
      .then((body) => handle(req, res, url, body))
      .catch((error: unknown) => {
        if (!res.headersSent) sendJson(res, 500, { message: String((error as Error).message) });
      });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    baseUrl,
    blobs,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** The next `times` requests (default 1) answer with this fault instead of being served. */
export class FaultQueue<Fault> {
  private readonly queue: Array<{ fault: Fault; remaining: number }> = [];
  push(fault: Fault, times = 1): void {
    this.queue.push({ fault, remaining: times });
  }
  take(): Fault | undefined {
    const head = this.queue[0];
    if (!head) return undefined;
    head.remaining -= 1;
    if (head.remaining <= 0) this.queue.shift();
    return head.fault;
  }
  clear(): void {
    this.queue.length = 0;
  }
}

export interface DecodedInput {
  raster: Raster;
  /** Bits per channel sharp reports (16-bit PNGs are refused by ailabtools). */
  bitDepth: string | undefined;
}

/** Decodes an uploaded image (its real format from the bytes); null when it is not an image sharp can read. */
export async function decodeInput(bytes: Buffer): Promise<DecodedInput | null> {
  const format = sniffFormat(bytes);
  if (!format) return null;
  try {
    const metadata = await sharp(bytes).metadata();
    const { data, info } = await sharp(bytes).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
    return { raster: { width: info.width, height: info.height, data, hasAlpha: Boolean(metadata.hasAlpha), format }, bitDepth: metadata.depth };
  } catch {
    return null;
  }
}

export type CutoutForm = 'transparent' | 'mask' | 'white' | 'crop';

/**
 * The subject cut out of the input, in one of the forms these APIs return: a 4-channel PNG, a single-channel mask,
 * the subject on white (JPEG), or the transparent PNG cropped to the subject; `target` crops to the subject and fits
 * it, centred, into a canvas of exactly that size (Aidge's targetWidth/targetHeight).
 */
export async function renderCutout(raster: Raster, form: CutoutForm, target?: { width: number; height: number }): Promise<{ bytes: Buffer; ext: 'png' | 'jpg'; width: number; height: number }> {
  const { width, height } = raster;
  const mask = foregroundMask(raster);
  const rgba = Buffer.from(raster.data);
  for (let i = 0; i < width * height; i += 1) rgba[i * 4 + 3] = mask[i]!;
  if (form === 'mask') {
    const bytes = await sharp(Buffer.from(mask), { raw: { width, height, channels: 1 } }).toColourspace('b-w').png().toBuffer();
    return { bytes, ext: 'png', width, height };
  }
  let image = sharp(rgba, { raw: { width, height, channels: 4 } });
  let size = { width, height };
  const box = boundingBox(mask, width, height);
  if ((form === 'crop' || target) && box) {
    image = sharp(await image.extract({ left: box.x, top: box.y, width: box.width, height: box.height }).png().toBuffer());
    size = { width: box.width, height: box.height };
  }
  if (target) {
    image = sharp(await image.resize(target.width, target.height, { fit: 'contain', background: { r: 0, g: 0, b: 0, alpha: 0 } }).png().toBuffer());
    size = target;
  }
  if (form === 'white') {
    const bytes = await image.flatten({ background: '#ffffff' }).jpeg({ quality: 92 }).toBuffer();
    return { bytes, ext: 'jpg', ...size };
  }
  return { bytes: await image.png().toBuffer(), ext: 'png', ...size };
}
