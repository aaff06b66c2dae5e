import { loadSharp, type SharpOptions } from '../../images/sharp.js';
import { AppError } from '../../errors.js';
import { isBmp } from '../../images/bmp.js';
import { decodeBmp } from './bmp.js';

/**
 * The longest side the embedded models work at (model input, edge snapping, mask refinement). A larger input is
 * shrunk while it is decoded, so a 10000 x 10000 image is never held whole; its result is the working mask scaled up
 * and applied to the input read again as a stream (alpha-output.ts).
 */
export const WORKING_SIDE = 4096;
/** Same bound as the image loader's; decoding never allocates more than this many pixels. */
const MAX_INPUT_PIXELS = 100_000_000;

/** The input at its own size, where results are made: what sharp reads for its colours. */
export interface FullSizeImage {
  width: number;
  height: number;
  input: Buffer;
  /** `input` is these raw 8-bit RGB pixels; else it is the encoded input, read again. */
  raw?: { width: number; height: number; channels: 3 };
  /** The encoded input has more or other than 8-bit sRGB channels (alpha, grey, 16 bits, CMYK). */
  needsRgb: boolean;
}

/** An input image decoded to 8-bit sRGB pixels at most WORKING_SIDE on its long side, EXIF orientation applied. */
export interface DecodedImage {
  width: number;
  height: number;
  /** width*height*3 bytes, RGB. */
  rgb: Buffer;
  /** width*height bytes when the input has transparency, else null. */
  alpha: Buffer | null;
  full: FullSizeImage;
}

/** One channel of 8-bit values (an alpha mask), row-major. */
export interface GreyImage {
  width: number;
  height: number;
  data: Buffer;
}

/** Options for reading an encoded input again at its full size: streamed, oriented, within the pixel bound. */
export const STREAMED: SharpOptions = { sequentialRead: true, autoOrient: true, limitInputPixels: MAX_INPUT_PIXELS };

/** Down to the working size, never up: an image within it is decoded as it is. */
const TO_WORKING_SIZE = { width: WORKING_SIDE, height: WORKING_SIDE, fit: 'inside', withoutEnlargement: true } as const;

/** Decodes any format the loader accepts (sharp's formats plus BMP) to RGB + optional alpha at working size. */
export async function decodeImage(bytes: Buffer, field: string): Promise<DecodedImage> {
  try {
    return isBmp(bytes) ? await decodeBitmap(bytes) : await decodeEncoded(bytes);
  } catch (error) {
    throw notDecodable(field, error);
  }
}

function notDecodable(field: string, error: unknown): AppError {
  const reason = error instanceof Error ? error.message : String(error);
  return new AppError('IMAGE_INVALID', `${field}: not a decodable image (${reason})`, { details: { field }, cause: error });
}

async function decodeEncoded(bytes: Buffer): Promise<DecodedImage> {
  const sharp = await loadSharp();
  const metadata = await sharp(bytes, { limitInputPixels: MAX_INPUT_PIXELS }).metadata();
  const { width, height } = metadata.autoOrient;
  const { data, info } = await sharp(bytes, STREAMED)
    .resize(TO_WORKING_SIZE)
    .toColourspace('srgb')
    .ensureAlpha()
    .raw({ depth: 'uchar' })
    .toBuffer({ resolveWithObject: true });
  if (info.channels !== 4) throw new Error(`decoded to ${info.channels} channels`);
  const { rgb, alpha } = splitAlpha(data, info.width, info.height);
  const whole = info.width === width && info.height === height;
  const needsRgb = !(metadata.channels === 3 && metadata.depth === 'uchar' && metadata.space === 'srgb');
  const full: FullSizeImage = whole ? { width, height, input: rgb, raw: { width, height, channels: 3 }, needsRgb: false } : { width, height, input: bytes, needsRgb };
  return { width: info.width, height: info.height, rgb, alpha, full };
}

/**
 * What a model sees: the input stretched to `size` x `size` (no letterbox), transparent areas flattened on white as a
 * viewer shows them, as packed RGB. Decoded straight from the input, shrinking on load where the format allows.
 */
export async function decodeModelInput(bytes: Buffer, field: string, size: number): Promise<Buffer> {
  const sharp = await loadSharp();
  try {
    const bitmap = isBmp(bytes) ? decodeBmp(bytes, MAX_INPUT_PIXELS) : undefined;
    const { data, info } = await (bitmap ? sharp(bitmap.data, { raw: { width: bitmap.width, height: bitmap.height, channels: 4 } }) : sharp(bytes, STREAMED))
      .flatten({ background: '#ffffff' })
      .resize(size, size, { fit: 'fill', kernel: 'linear' })
      .toColourspace('srgb')
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`decoded to ${info.channels} channels`);
    return data;
  } catch (error) {
    throw notDecodable(field, error);
  }
}

/** BMP, which sharp cannot read, is decoded whole (the loader takes at most 50 MB of it), then shrunk like the rest. */
async function decodeBitmap(bytes: Buffer): Promise<DecodedImage> {
  const sharp = await loadSharp();
  const { data, width, height } = decodeBmp(bytes, MAX_INPUT_PIXELS);
  const shrunk =
    Math.max(width, height) > WORKING_SIDE ? await sharp(data, { raw: { width, height, channels: 4 } }).resize(TO_WORKING_SIZE).raw().toBuffer({ resolveWithObject: true }) : undefined;
  const whole = splitAlpha(data, width, height);
  const full: FullSizeImage = { width, height, input: whole.rgb, raw: { width, height, channels: 3 }, needsRgb: false };
  if (!shrunk) return { width, height, ...whole, full };
  return { width: shrunk.info.width, height: shrunk.info.height, ...splitAlpha(shrunk.data, shrunk.info.width, shrunk.info.height), full };
}

/** RGB packed in place to the front of the RGBA buffer (no second copy of the pixels), and the alpha unless all opaque. */
function splitAlpha(rgba: Buffer, width: number, height: number): { rgb: Buffer; alpha: Buffer | null } {
  const pixels = width * height;
  const alpha = Buffer.allocUnsafe(pixels);
  let opaque = true;
  for (let i = 0, j = 0; i < pixels; i += 1, j += 4) {
    const r = rgba[j];
    const g = rgba[j + 1];
    const b = rgba[j + 2];
    const a = rgba[j + 3];
    rgba[i * 3] = r;
    rgba[i * 3 + 1] = g;
    rgba[i * 3 + 2] = b;
    alpha[i] = a;
    if (a !== 255) opaque = false;
  }
  return { rgb: rgba.subarray(0, pixels * 3), alpha: opaque ? null : alpha };
}

/** The RGB a model should see: transparent areas composited over white, as a viewer would show them. */
export function flattenOnWhite(image: DecodedImage): Buffer {
  if (!image.alpha) return image.rgb;
  const out = Buffer.allocUnsafe(image.rgb.length);
  const { rgb, alpha } = image;
  for (let i = 0; i < alpha.length; i += 1) {
    const a = alpha[i];
    for (let c = 0; c < 3; c += 1) out[i * 3 + c] = Math.round((rgb[i * 3 + c] * a + 255 * (255 - a)) / 255);
  }
  return out;
}

/** Resizes a single-channel image; `extractChannel(0)` keeps sharp from widening it to 3 channels. */
export async function resizeGrey(image: GreyImage, width: number, height: number): Promise<GreyImage> {
  const sharp = await loadSharp();
  if (image.width === width && image.height === height) return image;
  const { data, info } = await sharp(image.data, { raw: { width: image.width, height: image.height, channels: 1 } })
    .resize(width, height, { fit: 'fill', kernel: 'linear' })
    .extractChannel(0)
    .raw()
    .toBuffer({ resolveWithObject: true });
  if (info.channels !== 1 || info.width !== width || info.height !== height) throw new Error('unexpected mask resize result');
  return { width, height, data };
}

/** Converts model probabilities in 0..1 to 8-bit alpha. */
export function probabilitiesToAlpha(values: ArrayLike<number>): Buffer {
  const out = Buffer.allocUnsafe(values.length);
  for (let i = 0; i < values.length; i += 1) {
    const v = values[i];
    out[i] = v >= 1 ? 255 : v > 0 ? Math.round(v * 255) : 0;
  }
  return out;
}

/** Multiplies a predicted alpha by the input's own alpha: what was transparent stays transparent. */
export function applyInputAlpha(mask: GreyImage, inputAlpha: Buffer | null): GreyImage {
  if (!inputAlpha) return mask;
  const data = Buffer.allocUnsafe(mask.data.length);
  for (let i = 0; i < data.length; i += 1) data[i] = Math.round((mask.data[i] * inputAlpha[i]) / 255);
  return { width: mask.width, height: mask.height, data };
}
