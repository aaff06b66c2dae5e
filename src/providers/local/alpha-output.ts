import { loadSharp, type SharpOptions, type SharpPipeline } from '../../images/sharp.js';
import { STREAMED, WORKING_SIDE, type FullSizeImage, type GreyImage } from './image-io.js';

/**
 * How a cutout is returned, after the reference's ReturnForm parameter:
 * - 'mask': single-channel 8-bit greyscale PNG (the alpha itself);
 * - 'whiteBK': the subject composited on white, a 3-channel JPEG (no alpha);
 * - 'crop': 4-channel PNG cropped to the subject's bounding box;
 * - 'transparent' (ReturnForm unset or any other value): 4-channel PNG at the input's size.
 * Every form is at the input's own size: a mask computed at working size is scaled up on the way out, and the input's
 * colours are read again as a stream, so no full-size RGBA copy is ever held (a 10000 x 10000 cutout: ~40 MB).
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

type Box = { left: number; top: number; width: number; height: number };
/** What sharp reads: raw pixels or an encoded image. */
type SharpInput = { input: Buffer; options: SharpOptions };

/** Smallest rectangle holding every pixel with alpha >= threshold, or null when there is none. */
export function alphaBoundingBox(mask: GreyImage, threshold = CROP_ALPHA_THRESHOLD): Box | null {
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

/** A box found on the working-size mask, on the full-size image: widened to whole pixels, never narrowed. */
function scaleBox(box: Box, mask: GreyImage, full: FullSizeImage): Box {
  const sx = full.width / mask.width;
  const sy = full.height / mask.height;
  const left = Math.floor(box.left * sx);
  const top = Math.floor(box.top * sy);
  return { left, top, width: Math.min(full.width, Math.ceil((box.left + box.width) * sx)) - left, height: Math.min(full.height, Math.ceil((box.top + box.height) * sy)) - top };
}

/** The mask at full size (or a box of it): as it is when it is that size, else scaled up to a fast PNG that sharp reads back as a stream. */
async function fullSizeMask(mask: GreyImage, full: FullSizeImage, box?: Box): Promise<SharpPipeline> {
  const sharp = await loadSharp();
  let pipeline = sharp(mask.data, { raw: { width: mask.width, height: mask.height, channels: 1 } });
  if (mask.width !== full.width || mask.height !== full.height) pipeline = pipeline.resize(full.width, full.height, { fit: 'fill', kernel: 'cubic' });
  if (box) pipeline = pipeline.extract(box);
  return pipeline.extractChannel(0);
}

async function maskInput(mask: GreyImage, full: FullSizeImage, box?: Box): Promise<SharpInput> {
  const scaled = await fullSizeMask(mask, full, box);
  if (mask.width === full.width && mask.height === full.height) {
    const { data, info } = await scaled.raw().toBuffer({ resolveWithObject: true });
    return { input: data, options: { raw: { width: info.width, height: info.height, channels: 1 } } };
  }
  return { input: await scaled.png({ compressionLevel: 1 }).toBuffer(), options: { sequentialRead: true } };
}

/**
 * The input's colours at full size as 8-bit RGB. sharp joins a channel before it removes one, so an input with an
 * alpha (or grey, 16-bit, CMYK) is first rewritten as plain RGB, streaming, into a fast PNG.
 */
async function colourInput(full: FullSizeImage): Promise<SharpInput> {
  if (full.raw) return { input: full.input, options: { raw: full.raw } };
  if (!full.needsRgb) return { input: full.input, options: STREAMED };
  const sharp = await loadSharp();
  const rgb = await sharp(full.input, STREAMED).toColourspace('srgb').removeAlpha().png({ compressionLevel: 1 }).toBuffer();
  return { input: rgb, options: { sequentialRead: true } };
}

/** The input's colours with `mask` as their alpha, at full size (or a box of it), not yet encoded. */
async function cutout(full: FullSizeImage, mask: GreyImage, box?: Box): Promise<SharpPipeline> {
  const sharp = await loadSharp();
  const [colours, alpha] = await Promise.all([colourInput(full), maskInput(mask, full, box)]);
  let pipeline = sharp(colours.input, colours.options);
  if (box) pipeline = pipeline.extract(box);
  return pipeline.joinChannel(alpha.input, alpha.options);
}

/** A single-channel greyscale PNG at the input's size; `toColourspace('b-w')` keeps sharp from writing it as RGB. */
export async function encodeMask(mask: GreyImage, full: FullSizeImage): Promise<EncodedImage> {
  const bytes = await (await fullSizeMask(mask, full)).toColourspace('b-w').png().toBuffer();
  return { bytes, mimeType: 'image/png', width: full.width, height: full.height };
}

/** Renders the cutout of the input by `mask` (at the working size the input was decoded to) in the requested form. */
export async function renderCutout(full: FullSizeImage, mask: GreyImage, form: ReturnForm): Promise<EncodedImage> {
  const sharp = await loadSharp();
  const { width, height } = full;
  switch (form) {
    case 'mask':
      return encodeMask(mask, full);
    case 'whiteBK': {
      // sharp flattens before it joins: the cutout is made first, then flattened in a second, streamed pass. Optimised
      // Huffman tables (files 5-20% smaller) hold every coefficient at once: 600 MB at 10000 x 10000, so only up to the working size.
      const transparent = await (await cutout(full, mask)).png({ compressionLevel: 1 }).toBuffer();
      const bytes = await sharp(transparent, { sequentialRead: true })
        .flatten({ background: '#ffffff' })
        .jpeg({ quality: WHITE_BACKGROUND_JPEG_QUALITY, optimiseCoding: Math.max(width, height) <= WORKING_SIDE })
        .toBuffer();
      return { bytes, mimeType: 'image/jpeg', width, height };
    }
    case 'crop': {
      const found = alphaBoundingBox(mask);
      // Nothing found: nothing to cut away, the whole (transparent) frame is returned.
      const box = found ? scaleBox(found, mask, full) : undefined;
      const bytes = await (await cutout(full, mask, box)).png().toBuffer();
      return { bytes, mimeType: 'image/png', width: box?.width ?? width, height: box?.height ?? height };
    }
    case 'transparent': {
      const bytes = await (await cutout(full, mask)).png().toBuffer();
      return { bytes, mimeType: 'image/png', width, height };
    }
  }
}
