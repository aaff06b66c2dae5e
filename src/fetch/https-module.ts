import { createRequire } from 'node:module';

type Https = typeof import('node:https');
let loaded: Https | undefined;

/** node:https, with TLS under it, loaded on the first https request: a stdio start that fetches nothing skips it. */
export function httpsModule(): Https {
  return (loaded ??= createRequire(import.meta.url)('node:https') as Https);
}
