import { createHash, randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ModelSource } from './engine-protocol.js';

/**
 * Models derived once from a package's weights and kept in the data directory. A file's name carries what it was
 * derived from (the source's hash, the converter's version), so a new package or converter derives it again; a
 * `.sha256` beside it holds the file's digest, so a damaged file is derived again rather than loaded. Writers write
 * temporary files and rename them into place, so two processes deriving at once both end with a whole, identical file.
 * Files are hashed as streams and a file checked once is not checked again while it is unchanged: loading the model
 * again (after an idle release) reads nothing into this process.
 */
export interface DerivedModelSource {
  /** Identifies the source model's content (e.g. its hash). */
  key: string;
  read(): Promise<Uint8Array>;
}

export interface DerivedModel {
  /** The cached file; the bytes themselves only when the cache could not be written. */
  model: ModelSource;
  /** 'cache' when found, 'converted' when made now. */
  origin: 'cache' | 'converted';
  file: string;
}

/** The cache file for this source key and converter version. */
function derivedModelFile(directory: string, name: string, sourceKey: string, converterVersion: number): string {
  const key = createHash('sha256').update(`${sourceKey}\0${converterVersion}`).digest('hex').slice(0, 16);
  return path.join(directory, `${name}-${key}.onnx`);
}

async function fileDigest(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Files found whole, by the size and time of the file and of its digest when they were checked. */
const checked = new Map<string, string>();
const fingerprint = async (file: string) => {
  const [model, digest] = await Promise.all([stat(file), stat(`${file}.sha256`)]);
  return `${model.size}:${model.mtimeMs}:${digest.size}:${digest.mtimeMs}`;
};

async function isWhole(file: string): Promise<boolean> {
  try {
    const before = await fingerprint(file);
    if (checked.get(file) === before) return true;
    const [actual, expected] = await Promise.all([fileDigest(file), readFile(`${file}.sha256`, 'utf8')]);
    if (actual !== expected.trim()) return false;
    checked.set(file, before);
    return true;
  } catch {
    return false;
  }
}

async function writeAtomically(file: string, write: (temporary: string) => Promise<void>): Promise<void> {
  const temporary = `${file}.${process.pid}.${randomUUID()}.tmp`;
  try {
    await write(temporary);
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

/** Writes the model (through `write`, into a temporary file), then its digest: a reader that sees the new digest sees the new model too. */
async function store(file: string, name: string, write: (temporary: string) => Promise<void>): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeAtomically(file, write);
  const digest = await fileDigest(file);
  await writeAtomically(`${file}.sha256`, (temporary) => writeFile(temporary, `${digest}\n`));
  checked.set(file, await fingerprint(file));
  await removeOlderVersions(file, name);
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
  const file = derivedModelFile(options.directory, options.name, options.source.key, options.converterVersion);
  if (await isWhole(file)) return { model: { file }, origin: 'cache', file };
  const bytes = options.convert(await options.source.read());
  try {
    await store(file, options.name, (temporary) => writeFile(temporary, bytes));
    return { model: { file }, origin: 'converted', file };
  } catch (error) {
    options.onCacheError?.(error as Error);
    return { model: { bytes }, origin: 'converted', file };
  }
}

/** A model derived from a file into a file (by another process, say), from the cache or derived now; throws when it cannot be made. */
export async function deriveModelFile(options: {
  directory: string;
  name: string;
  sourceKey: string;
  converterVersion: number;
  derive: (target: string) => Promise<void>;
}): Promise<{ file: string; origin: 'cache' | 'converted' }> {
  const file = derivedModelFile(options.directory, options.name, options.sourceKey, options.converterVersion);
  if (await isWhole(file)) return { file, origin: 'cache' };
  await store(file, options.name, options.derive);
  return { file, origin: 'converted' };
}
