import type { ImageFormat } from '../catalog/capability.js';

/** image-size's type names of the formats any Action takes; anything else it recognises is named as it is. */
const FORMATS: Record<string, ImageFormat> = { jpg: 'jpeg', png: 'png', webp: 'webp', gif: 'gif', tiff: 'tiff', bmp: 'bmp' };

/** What an image's header says: its format (ours when an Action could take it) and its size as displayed. */
export interface ProbedImage {
  format: ImageFormat | undefined;
  /** The header's own name for the format (e.g. "heif", "svg"), for the error when it is not one of ours. */
  type: string;
  width: number;
  height: number;
}

// Loaded on first use: only passthrough URLs are probed, and the CLI's cold start should not pay for it.
let loaded: Promise<typeof import('image-size')> | undefined;

/**
 * Reads format and dimensions from the header alone (image-size: no decode, no native call), EXIF orientation
 * applied as sharp's metadata is. Throws when no known header is there or it is cut short.
 */
export async function probeImage(bytes: Uint8Array): Promise<ProbedImage> {
  const { imageSize } = await (loaded ??= import('image-size'));
  const { type = 'unknown', width, height, orientation = 1 } = imageSize(bytes);
  const rotated = orientation >= 5;
  return { format: FORMATS[type], type, width: rotated ? height : width, height: rotated ? width : height };
}
