import { createGuidedFilter } from './guided-filter.js';
import { flattenOnWhite, resizeGrey, type DecodedImage, type GreyImage } from './image-io.js';

/**
 * 'mask-refinement' (RefineMask): no model. The rough mask is snapped onto the image's colour edges
 * with the colour guided filter; the reference returns the refined mask itself ("输出的精细化Mask的图像").
 *
 * 1. `passes` times: guided filter with a wide window (`wideRadius` of the long side), then a contrast
 *    stretch around 0.5 (`contrast`), so errors as wide as the window (blocky, dilated or eroded masks)
 *    move to where the colours change and the result is decisive again;
 * 2. one guided filter with a narrow window and small epsilon, which gives the edges the image's own
 *    soft transitions (anti-aliasing, fine detail) instead of a hard step.
 * Tuned on generated scenes (test/local-provider.test.ts): blocky masks from 1/8 to 1/32 resolution,
 * dilated by up to 6 px, go from IoU 0.88-0.95 to 0.97-0.999.
 */
export const REFINEMENT = {
  wideRadius: 0.05,
  wideEpsilon: 1e-2,
  passes: 2,
  contrast: 4,
  edgeRadius: 0.005,
  edgeEpsilon: 1e-4,
} as const;

/** The mask a user sent: its alpha when it has transparency (a cutout PNG), else its luminance (a black/white mask). */
export function maskValues(mask: DecodedImage): GreyImage {
  if (mask.alpha) return { width: mask.width, height: mask.height, data: mask.alpha };
  const pixels = mask.width * mask.height;
  const data = Buffer.allocUnsafe(pixels);
  for (let i = 0; i < pixels; i += 1) {
    data[i] = Math.round(0.299 * mask.rgb[i * 3] + 0.587 * mask.rgb[i * 3 + 1] + 0.114 * mask.rgb[i * 3 + 2]);
  }
  return { width: mask.width, height: mask.height, data };
}

function stretchContrast(values: Uint8Array, factor: number): Uint8Array {
  const out = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i += 1) {
    const v = (values[i] - 127.5) * factor + 127.5;
    out[i] = v >= 255 ? 255 : v > 0 ? Math.round(v) : 0;
  }
  return out;
}

/** Lets other work on the event loop run between the filter's CPU-bound stages (each well under a second at 2000x2000). */
const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Refines `mask` (8-bit, image-sized) guided by packed 8-bit RGB. */
export async function refineAlpha(rgb: Uint8Array, mask: Uint8Array, width: number, height: number): Promise<Uint8Array> {
  const longSide = Math.max(width, height);
  const wide = Math.max(2, Math.round(longSide * REFINEMENT.wideRadius));
  const narrow = Math.max(1, Math.round(longSide * REFINEMENT.edgeRadius));
  const wideFilter = createGuidedFilter(rgb, width, height, { radius: wide, epsilon: REFINEMENT.wideEpsilon });
  let current = mask;
  for (let pass = 0; pass < REFINEMENT.passes; pass += 1) {
    await yieldToEventLoop();
    current = stretchContrast(wideFilter(current), REFINEMENT.contrast);
  }
  await yieldToEventLoop();
  return createGuidedFilter(rgb, width, height, { radius: narrow, epsilon: REFINEMENT.edgeEpsilon })(current);
}

/** RefineMask: the user's mask, stretched onto the image if its size differs, refined against the image. */
export async function refineMask(image: DecodedImage, mask: DecodedImage): Promise<GreyImage> {
  const { width, height } = image;
  const rough = await resizeGrey(maskValues(mask), width, height);
  const refined = await refineAlpha(flattenOnWhite(image), rough.data, width, height);
  return { width, height, data: Buffer.from(refined.buffer, refined.byteOffset, refined.byteLength) };
}

/**
 * Edge snapping for a model's upsampled alpha (the person model predicts at 256x256): one narrow guided
 * filter moves the blurred upsampled edge onto the image's edge. The filter's linear fit leaves a faint
 * halo outside the subject, so wherever the model itself was sure of background (alpha <= `floor`)
 * the result stays 0. On the generated person scenes of the tests this lifts IoU from 0.975-0.988 to
 * 0.985-0.998 and lowers MAE by 20-30%. It runs at the working size (image-io.ts), at most 4096 px a side.
 */
export const EDGE_SNAP = { radius: 0.01, epsilon: 1e-4, floor: 2 } as const;

export async function snapToEdges(image: DecodedImage, mask: GreyImage): Promise<GreyImage> {
  const { width, height } = image;
  await yieldToEventLoop();
  const radius = Math.max(1, Math.round(Math.max(width, height) * EDGE_SNAP.radius));
  const snapped = createGuidedFilter(flattenOnWhite(image), width, height, { radius, epsilon: EDGE_SNAP.epsilon })(mask.data);
  for (let i = 0; i < snapped.length; i += 1) if (mask.data[i] <= EDGE_SNAP.floor) snapped[i] = 0;
  return { width, height, data: Buffer.from(snapped.buffer, snapped.byteOffset, snapped.byteLength) };
}
