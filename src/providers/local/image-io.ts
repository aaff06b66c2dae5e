import { loadSharp } from '../../images/sharp.js';
import { AppError } from '../../errors.js';
import { isBmp } from '../../images/bmp.js';
import { decodeBmp } from './bmp.js';

/** An input image decoded to 8-bit sRGB pixels, EXIF orientation applied. */
export interface DecodedImage {
  width: number;
  height: number;
  /** width*height*3 bytes, RGB. */
  rgb: Buffer;
  /** width*height bytes when the input has transparency, else null. */
  alpha: Buffer | null;
}

/** One channel of 8-bit values (an alpha mask), row-major. */
export interface GreyImage {
  width: number;
  height: number;
  data: Buffer;
}

/** Same bound as the image loader's; decoding never allocates more than this many pixels. */
export const MAX_INPUT_PIXELS = 100_000_000;

/** Decodes any format the loader accepts (sharp's formats plus BMP) to RGB + optional alpha. */
export async function decodeImage(bytes: Buffer, field: string): Promise<DecodedImage> {
  const sharp = await loadSharp();
  let rgba: { data: Buffer; width: number; height: number };
  try {
    if (isBmp(bytes)) {
      rgba = decodeBmp(bytes, MAX_INPUT_PIXELS);
    } else {
      const { data, info } = await sharp(bytes, { limitInputPixels: MAX_INPUT_PIXELS })
        .rotate()
        .toColourspace('srgb')
        .ensureAlpha()
        .raw({ depth: 'uchar' })
        .toBuffer({ resolveWithObject: true });
      if (info.channels !== 4) throw new Error(`decoded to ${info.channels} channels`);
      rgba = { data, width: info.width, height: info.height };
    }
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new AppError('IMAGE_INVALID', `${field}: not a decodable image (${reason})`, { details: { field }, cause: error });
  }
  return splitAlpha(rgba.data, rgba.width, rgba.height);
}

function splitAlpha(rgba: Buffer, width: number, height: number): DecodedImage {
  const pixels = width * height;
  const rgb = Buffer.allocUnsafe(pixels * 3);
  const alpha = Buffer.allocUnsafe(pixels);
  let opaque = true;
  for (let i = 0, j = 0; i < pixels; i += 1, j += 4) {
    rgb[i * 3] = rgba[j];
    rgb[i * 3 + 1] = rgba[j + 1];
    rgb[i * 3 + 2] = rgba[j + 2];
    alpha[i] = rgba[j + 3];
    if (rgba[j + 3] !== 255) opaque = false;
  }
  return { width, height, rgb, alpha: opaque ? null : alpha };
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

/** Bilinear stretch of packed RGB to exactly width x height (no letterbox). */
export async function resizeRgb(rgb: Buffer, from: { width: number; height: number }, width: number, height: number): Promise<Buffer> {
  const sharp = await loadSharp();
  if (from.width === width && from.height === height) return rgb;
  const { data, info } = await sharp(rgb, { raw: { width: from.width, height: from.height, channels: 3 } })
    .resize(width, height, { fit: 'fill', kernel: 'linear' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  if (info.channels !== 3 || info.width !== width || info.height !== height) throw new Error('unexpected resize result');
  return data;
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
