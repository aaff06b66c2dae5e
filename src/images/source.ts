import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { AppError } from '../errors.js';

/** Where the image comes from, decided from the argument's spelling alone. */
export type ImageSource =
  | { kind: 'url'; url: URL }
  | { kind: 'inline'; bytes: Buffer }
  | { kind: 'file'; path: string };

export function classifyImageSource(field: string, value: string): ImageSource {
  const trimmed = value.trim();
  if (/^https?:\/\//i.test(trimmed)) {
    try {
      return { kind: 'url', url: new URL(trimmed) };
    } catch {
      throw new AppError('INVALID_ARGUMENT', `${field}: not a valid URL`, { details: { field } });
    }
  }
  const dataUrl = /^data:([\w.+-]+\/[\w.+-]+)?(;[\w=.+-]+)*;base64,(.*)$/is.exec(trimmed);
  if (dataUrl) return { kind: 'inline', bytes: Buffer.from(dataUrl[3], 'base64') };
  if (/^file:\/\//i.test(trimmed)) return { kind: 'file', path: fileURLToPath(trimmed) };
  if (/^[A-Za-z0-9+/=\s_-]+$/.test(trimmed) && trimmed.length >= 64) return { kind: 'inline', bytes: Buffer.from(trimmed, 'base64') };
  const looksLikeImageFile = /^[^\s]+\.(jpe?g|png|bmp|webp|gif|tiff?)$/i.test(trimmed);
  if (path.isAbsolute(trimmed) || trimmed.startsWith('./') || trimmed.startsWith('../') || looksLikeImageFile) return { kind: 'file', path: trimmed };
  throw new AppError('INVALID_ARGUMENT', `${field}: expected an http(s) URL, a data: URL or base64 image data`, {
    details: { field },
  });
}
