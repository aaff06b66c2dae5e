import { loadSharp } from '../../images/sharp.js';
import type { DecodedImage, GreyImage } from './image-io.js';

/**
 * How a cutout is returned, after the reference's ReturnForm parameter:
 * - 'mask': single-channel 8-bit greyscale PNG (the alpha itself);
 * - 'whiteBK': the subject composited on white, a 3-channel JPEG (no alpha);
 * - 'crop': 4-channel PNG cropped to the subject's bounding box;
 * - 'transparent' (ReturnForm unset or any other value): 4-channel PNG at the input's size.
 */
export type ReturnForm = 'transparent' | 'mask' | 'whiteBK' | 'crop';

export interface EncodedImage {
  bytes: Buffer;
  mimeType: 'image/png' | 'image/jpeg';
  width: number;
  height: number;
}

/**
 * Pixels at least this opaque (12.5%) count as subject when cropping: the models leave a faint fringe
 * of a few pixels around the subject that would otherwise widen the box for nothing visible.
 */
export const CROP_ALPHA_THRESHOLD = 32;
const WHITE_BACKGROUND_JPEG_QUALITY = 92;

/** The reference: "如果不设置或者设置为其他值，则返回四通道PNG图" — unknown values mean the default. */
export function parseReturnForm(value: unknown): ReturnForm {
  return value === 'mask' || value === 'whiteBK' || value === 'crop' ? value : 'transparent';
}

/** A single-channel greyscale PNG; `toColourspace('b-w')` keeps sharp from writing it as RGB. */
export async function encodeMask(mask: GreyImage): Promise<EncodedImage> {
  const sharp = await loadSharp();
  const bytes = await sharp(mask.data, { raw: { width: mask.width, height: mask.height, channels: 1 } })
    .toColourspace('b-w')
    .png()
    .toBuffer();
  return { bytes, mimeType: 'image/png', width: mask.width, height: mask.height };
}

/** Smallest rectangle holding every pixel with alpha >= threshold, or null when there is none. */
export function alphaBoundingBox(mask: GreyImage, threshold = CROP_ALPHA_THRESHOLD): { left: number; top: number; width: number; height: number } | null {
  let minX = mask.width;
  let minY = mask.height;
  let maxX = -1;
  let maxY = -1;
  for (let y = 0; y < mask.height; y += 1) {
    const row = y * mask.width;
    for (let x = 0; x < mask.width; x += 1) {
      if (mask.data[row + x] >= threshold) {
        if (x < minX) minX = x;
        if (x > maxX) maxX = x;
        if (y < minY) minY = y;
        if (y > maxY) maxY = y;
      }
    }
  }
  return maxX < 0 ? null : { left: minX, top: minY, width: maxX - minX + 1, height: maxY - minY + 1 };
}

function rgbaOf(image: DecodedImage, mask: GreyImage): Buffer {
  const pixels = image.width * image.height;
  const out = Buffer.allocUnsafe(pixels * 4);
  for (let i = 0; i < pixels; i += 1) {
    out[i * 4] = image.rgb[i * 3];
    out[i * 4 + 1] = image.rgb[i * 3 + 1];
    out[i * 4 + 2] = image.rgb[i * 3 + 2];
    out[i * 4 + 3] = mask.data[i];
  }
  return out;
}

/** Renders the cutout of `image` by `mask` (same size) in the requested form. */
export async function renderCutout(image: DecodedImage, mask: GreyImage, form: ReturnForm): Promise<EncodedImage> {
  const sharp = await loadSharp();
  if (mask.width !== image.width || mask.height !== image.height) throw new RangeError('mask and image sizes differ');
  const { width, height } = image;
  switch (form) {
    case 'mask':
      return encodeMask(mask);
    case 'whiteBK': {
      const pixels = width * height;
      const out = Buffer.allocUnsafe(pixels * 3);
      for (let i = 0; i < pixels; i += 1) {
        const a = mask.data[i];
        for (let c = 0; c < 3; c += 1) out[i * 3 + c] = Math.round((image.rgb[i * 3 + c] * a + 255 * (255 - a)) / 255);
      }
      const bytes = await sharp(out, { raw: { width, height, channels: 3 } })
        .jpeg({ quality: WHITE_BACKGROUND_JPEG_QUALITY })
        .toBuffer();
      return { bytes, mimeType: 'image/jpeg', width, height };
    }
    case 'crop': {
      const box = alphaBoundingBox(mask);
      let pipeline = sharp(rgbaOf(image, mask), { raw: { width, height, channels: 4 } });
      // Nothing found: nothing to cut away, the whole (transparent) frame is returned.
      if (box) pipeline = pipeline.extract(box);
      const bytes = await pipeline.png().toBuffer();
      return { bytes, mimeType: 'image/png', width: box?.width ?? width, height: box?.height ?? height };
    }
    case 'transparent': {
      const bytes = await sharp(rgbaOf(image, mask), { raw: { width, height, channels: 4 } })
        .png()
        .toBuffer();
      return { bytes, mimeType: 'image/png', width, height };
    }
  }
}
