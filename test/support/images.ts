import sharp from 'sharp';

/** A red disc on a white background: what a product photo looks like to a segmenter, with known ground truth. */
export async function discOnWhite(width = 320, height = 240): Promise<Buffer> {
  const radius = Math.round(Math.min(width, height) / 3);
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"><rect width="100%" height="100%" fill="#ffffff"/><circle cx="${width / 2}" cy="${height / 2}" r="${radius}" fill="#d22020"/></svg>`;
  return sharp(Buffer.from(svg)).png().toBuffer();
}

/**
 * How well a mask (alpha or grey levels, >= 128 counts as subject) matches discOnWhite's disc, as intersection over
 * union: 1 is a perfect cutout.
 */
export function discIoU(mask: Uint8Array, width: number, height: number): number {
  const radius = Math.round(Math.min(width, height) / 3);
  let intersection = 0;
  let union = 0;
  for (let y = 0; y < height; y += 1) {
    for (let x = 0; x < width; x += 1) {
      const inDisc = (x + 0.5 - width / 2) ** 2 + (y + 0.5 - height / 2) ** 2 <= radius ** 2;
      const inMask = mask[y * width + x] >= 128;
      if (inDisc && inMask) intersection += 1;
      if (inDisc || inMask) union += 1;
    }
  }
  return union === 0 ? 0 : intersection / union;
}

export async function decodeAlpha(png: Buffer): Promise<{ width: number; height: number; channels: number; alpha: Uint8Array }> {
  const { data, info } = await sharp(png).ensureAlpha().extractChannel(3).raw().toBuffer({ resolveWithObject: true });
  const metadata = await sharp(png).metadata();
  return { width: info.width, height: info.height, channels: metadata.channels ?? 0, alpha: new Uint8Array(data) };
}

/**
 * A person the selfie model recognises, in a 480x640 frame: face with hair, eyes and mouth, neck, sweater with arms
 * and hands, trousers. (A bare head circle on a torso scores IoU 0: the model looks for a face.)
 */
export const PERSON = `
  <rect x="212" y="220" width="56" height="60" fill="#c98f6e"/>
  <ellipse cx="240" cy="175" rx="55" ry="70" fill="#e3b08f"/>
  <path d="M183 170 Q184 98 240 100 Q298 98 298 170 Q294 128 240 126 Q188 128 183 170 Z" fill="#3b2616"/>
  <ellipse cx="218" cy="170" rx="8" ry="5" fill="#2b1d14"/><ellipse cx="262" cy="170" rx="8" ry="5" fill="#2b1d14"/>
  <path d="M226 218 Q240 226 254 218" stroke="#a0453a" stroke-width="4" fill="none"/>
  <path d="M150 290 Q160 268 210 262 Q240 280 270 262 Q320 268 330 290 L340 520 L140 520 Z" fill="#b8443a"/>
  <path d="M150 290 L105 470 L130 478 L172 330 Z" fill="#b8443a"/><path d="M330 290 L375 470 L350 478 L308 330 Z" fill="#b8443a"/>
  <circle cx="117" cy="485" r="17" fill="#e3b08f"/><circle cx="363" cy="485" r="17" fill="#e3b08f"/>
  <path d="M145 515 L335 515 L330 640 L250 640 L240 560 L230 640 L150 640 Z" fill="#30343f"/>`;

/**
 * A photo-sized scene with a known subject: a red disc (a third of the short side in radius) with grainy texture
 * on plain white. The grain makes the cutout a few MB, as real photos' are; `truth` is 1 inside the disc.
 */
export async function texturedDisc(width: number, height: number): Promise<{ png: Buffer; truth: Uint8Array }> {
  const radius = Math.round(Math.min(width, height) / 3);
  const [cx, cy] = [width / 2, height / 2];
  const rgb = Buffer.alloc(width * height * 3, 255);
  const truth = new Uint8Array(width * height);
  let seed = 12345;
  const grain = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) % 81) - 40;
  for (let y = 0; y < height; y += 1) {
    for (let x = 0; x < width; x += 1) {
      if ((x + 0.5 - cx) ** 2 + (y + 0.5 - cy) ** 2 > radius * radius) continue;
      const index = y * width + x;
      truth[index] = 1;
      rgb[index * 3] = 200 + Math.round(grain() / 2);
      rgb[index * 3 + 1] = 40 + grain();
      rgb[index * 3 + 2] = 40 + grain();
    }
  }
  const png = await sharp(rgb, { raw: { width, height, channels: 3 } }).png().toBuffer();
  return { png, truth };
}

/** Intersection over union of a result's alpha or mask (> 50%) and a scene's known subject. */
export function iou(alpha: Uint8Array, truth: Uint8Array): number {
  let both = 0;
  let either = 0;
  for (let index = 0; index < truth.length; index += 1) {
    const predicted = alpha[index] > 127;
    const actual = truth[index] > 0;
    if (predicted && actual) both += 1;
    if (predicted || actual) either += 1;
  }
  return either === 0 ? 0 : both / either;
}

/** A 24-bit bottom-up BMP (rows padded to 4 bytes) of raw RGB pixels: sharp cannot write BMP. */
export function bmp24(width: number, height: number, rgb: Buffer): Buffer {
  const stride = Math.ceil((width * 3) / 4) * 4;
  const bytes = Buffer.alloc(54 + stride * height);
  bytes.write('BM', 0, 'ascii');
  bytes.writeUInt32LE(bytes.length, 2);
  bytes.writeUInt32LE(54, 10);
  bytes.writeUInt32LE(40, 14);
  bytes.writeInt32LE(width, 18);
  bytes.writeInt32LE(height, 22);
  bytes.writeUInt16LE(1, 26);
  bytes.writeUInt16LE(24, 28);
  bytes.writeUInt32LE(stride * height, 34);
  for (let y = 0; y < height; y += 1) {
    for (let x = 0; x < width; x += 1) {
      const from = (y * width + x) * 3;
      const to = 54 + (height - 1 - y) * stride + x * 3;
      bytes[to] = rgb[from + 2]!;
      bytes[to + 1] = rgb[from + 1]!;
      bytes[to + 2] = rgb[from]!;
    }
  }
  return bytes;
}
