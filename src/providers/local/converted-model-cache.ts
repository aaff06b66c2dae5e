import { createHash, randomUUID } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';

/**
 * A model derived once from a package's weights and kept in the data directory. The file name carries the source's
 * hash and the converter's version, so a new package or converter converts again; a `.sha256` beside it holds the
 * file's digest, so a damaged file is converted again rather than loaded. Writers write temporary files and rename
 * them into place, so two processes converting at once both end with a whole, identical file.
 */
export interface DerivedModelSource {
  /** Identifies the source model's content (e.g. its hash). */
  key: string;
  read(): Promise<Uint8Array>;
}

export interface DerivedModel {
  bytes: Uint8Array;
  /** 'cache' when read back, 'converted' when made now. */
  origin: 'cache' | 'converted';
  file: string;
}

const digest = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** The cache file for this source and converter version. */
export function derivedModelFile(directory: string, name: string, source: DerivedModelSource, converterVersion: number): string {
  const key = createHash('sha256').update(`${source.key}\0${converterVersion}`).digest('hex').slice(0, 16);
  return path.join(directory, `${name}-${key}.onnx`);
}

async function readVerified(file: string): Promise<Uint8Array | null> {
  try {
    const [bytes, expected] = await Promise.all([readFile(file), readFile(`${file}.sha256`, 'utf8')]);
    return digest(bytes) === expected.trim() ? new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength) : null;
  } catch {
    return null;
  }
}

async function writeAtomically(file: string, bytes: Uint8Array | string): Promise<void> {
  const temporary = `${file}.${process.pid}.${randomUUID()}.tmp`;
  try {
    await writeFile(temporary, bytes);
    await rename(temporary, file);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

/** Files of this name for another source or converter version (whole ones, not other writers' temporaries). */
async function removeOlderVersions(file: string, name: string): Promise<void> {
  const directory = path.dirname(file);
  const current = path.basename(file);
  const stale = (await readdir(directory)).filter((entry) => entry.startsWith(`${name}-`) && /\.onnx(\.sha256)?$/.test(entry) && !entry.startsWith(current));
  await Promise.all(stale.map((entry) => rm(path.join(directory, entry), { force: true })));
}

/** The derived model from the cache, or converted from the source and cached (a cache that cannot be written is only logged by the caller). */
export async function loadDerivedModel(options: {
  directory: string;
  name: string;
  source: DerivedModelSource;
  converterVersion: number;
  convert: (source: Uint8Array) => Uint8Array;
  onCacheError?: (error: Error) => void;
}): Promise<DerivedModel> {
  const file = derivedModelFile(options.directory, options.name, options.source, options.converterVersion);
  const cached = await readVerified(file);
  if (cached) return { bytes: cached, origin: 'cache', file };
  const bytes = options.convert(await options.source.read());
  try {
    await mkdir(options.directory, { recursive: true });
    // The model first, then its digest: a reader that sees the new digest sees the new model too.
    await writeAtomically(file, bytes);
    await writeAtomically(`${file}.sha256`, `${digest(bytes)}\n`);
    await removeOlderVersions(file, options.name);
  } catch (error) {
    options.onCacheError?.(error as Error);
  }
  return { bytes, origin: 'converted', file };
}
