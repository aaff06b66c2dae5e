import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package manifest, found from here whether running from src/ (tests) or dist/src/ (built). */
function readManifest(): { name: string; version: string } {
  let directory = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(directory, 'package.json'))) {
    const parent = path.dirname(directory);
    if (parent === directory) throw new Error('package.json not found above ' + fileURLToPath(import.meta.url));
    directory = parent;
  }
  return JSON.parse(readFileSync(path.join(directory, 'package.json'), 'utf8')) as { name: string; version: string };
}

const manifest = readManifest();

export const PRODUCT_NAME = manifest.name;
export const PRODUCT_VERSION = manifest.version;
