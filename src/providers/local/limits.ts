import type { Capability, ImageLimits } from '../../catalog/capability.js';

/**
 * The embedded models' own limits, not Alibaba's: they shrink any input to their working size while decoding it and
 * bring the result back to the input's size as a stream (image-io.ts, alpha-output.ts), so they take the largest
 * image any Action does, as it is.
 */
export const LOCAL_MAX_SIDE = 10_000;
export const LOCAL_MAX_BYTES = 50 * 1024 * 1024;

export function localImageLimits(capability: Capability, field: string): ImageLimits | undefined {
  const documented = capability.images[field];
  if (!documented) return undefined;
  return { formats: documented.formats, maxBytes: LOCAL_MAX_BYTES, maxSide: LOCAL_MAX_SIDE, ...(documented.minSide ? { minSide: Math.min(documented.minSide, 16) } : {}) };
}
