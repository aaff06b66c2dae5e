import type { Capability, ImageLimits } from '../../catalog/capability.js';

/**
 * The embedded models' own limits, not Alibaba's: they resize to their working size (1024 px ISNet, 256 px selfie)
 * themselves and the mask is brought back to the input's size, so what bounds them is memory and the edge-snapping
 * filter's time. Past this the pipeline fits the input and scales the result back.
 */
export const LOCAL_MAX_SIDE = 4096;
export const LOCAL_MAX_BYTES = 50 * 1024 * 1024;

export function localImageLimits(capability: Capability, field: string): ImageLimits | undefined {
  const documented = capability.images[field];
  if (!documented) return undefined;
  return { formats: documented.formats, maxBytes: LOCAL_MAX_BYTES, maxSide: LOCAL_MAX_SIDE, ...(documented.minSide ? { minSide: Math.min(documented.minSide, 16) } : {}) };
}
