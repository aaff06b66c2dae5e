import type { ImageFormat } from '../catalog/capability.js';

/** The media type of each input format. */
export const MIME_TYPES: Record<ImageFormat, string> = {
  jpeg: 'image/jpeg', png: 'image/png', bmp: 'image/bmp', webp: 'image/webp', gif: 'image/gif', tiff: 'image/tiff',
};

/** File extensions of the result formats we write and serve. */
export const RESULT_EXTENSIONS: Readonly<Record<string, string>> = { 'image/png': 'png', 'image/jpeg': 'jpg', 'image/webp': 'webp' };

export const mediaTypeOfExtension = (extension: string) =>
  Object.entries(RESULT_EXTENSIONS).find(([, value]) => value === extension)?.[0] ?? 'application/octet-stream';
