import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Whether an embedded model can run here, found without loading it. */
export interface ModelStatus {
  available: boolean;
  detail: string;
}

const require = createRequire(import.meta.url);

/** The directory of an installed package's entry point, or null when the package is absent. */
export function resolvePackageEntry(name: string): string | null {
  try {
    return require.resolve(name);
  } catch {
    return null;
  }
}

/** The directory holding a package's package.json, found by walking up from its resolved entry point. */
export function packageRoot(name: string): string | null {
  const entry = resolvePackageEntry(name);
  if (!entry) return null;
  let dir = path.dirname(entry);
  const base = name.split('/').pop()!;
  for (;;) {
    if (path.basename(dir) === base && existsSync(path.join(dir, 'package.json'))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) return null;
    dir = parent;
  }
}

/**
 * The project's `models/` directory: the nearest ancestor of this module holding `models/<name>`.
 * Works from `src/` (tsx, vitest) and from the compiled `dist/src/` alike.
 */
export function findVendoredModelDirectory(name: string): string | null {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = path.join(dir, 'models', name);
    if (existsSync(candidate)) return candidate;
    const parent = path.dirname(dir);
    if (parent === dir) return null;
    dir = parent;
  }
}
