import { readFileSync } from 'node:fs';

const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { name: string; version: string };

export const PRODUCT_NAME = manifest.name;
export const PRODUCT_VERSION = manifest.version;
