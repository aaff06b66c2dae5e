import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package's own directory, found from here whether running from src/ (tests), dist/src/ or the dist/ bundle. */
function findPackageDirectory(): string {
  let directory = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(directory, 'package.json'))) {
    const parent = path.dirname(directory);
    if (parent === directory) throw new Error('package.json not found above ' + fileURLToPath(import.meta.url));
    directory = parent;
  }
  return directory;
}

export const PACKAGE_DIRECTORY = findPackageDirectory();

const manifest = JSON.parse(readFileSync(path.join(PACKAGE_DIRECTORY, 'package.json'), 'utf8')) as { name: string; version: string };

export const PRODUCT_NAME = manifest.name;
export const PRODUCT_VERSION = manifest.version;
