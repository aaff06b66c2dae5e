import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PACKAGE_DIRECTORY } from '../version.js';

/** What `npm run build` writes to dist/web/ from web/ (scripts/build-web.mjs). */
export type WebAsset = 'result-view.html' | 'console.js' | 'console.css';

const loaded = new Map<WebAsset, string>();

/** A built browser file, read once per process. */
export function webAsset(name: WebAsset): string {
  let text = loaded.get(name);
  if (text === undefined) {
    const file = path.join(PACKAGE_DIRECTORY, 'dist', 'web', name);
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      throw new Error(`${file} is missing: run npm run build`, { cause: error });
    }
    loaded.set(name, text);
  }
  return text;
}
