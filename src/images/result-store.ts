import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile, readdir, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { RESULT_EXTENSIONS, mediaTypeOfExtension } from './media-types.js';

export interface StoredResult {
  id: string;
  url: string;
  mimeType: string;
}

export interface ResultStore {
  save(bytes: Buffer, mimeType: string): Promise<StoredResult>;
  /** null when unknown or expired. */
  load(id: string): Promise<{ bytes: Buffer; mimeType: string } | null>;
  close(): Promise<void>;
}

/** The base of result links over stdio: MCP resources this process serves (src/mcp/result-resources.ts). */
export const RESULT_RESOURCE_BASE = 'imageseg://local';

const ID_PATTERN = /^[a-f0-9]{32}\.(png|jpg|webp)$/;

/** 128 random bits and the format's extension: the id is the only thing between a result and anyone else. */
export const newResultId = (mimeType: string) => `${randomBytes(16).toString('hex')}.${RESULT_EXTENSIONS[mimeType] ?? 'png'}`;
export const isResultId = (id: string) => ID_PATTERN.test(id);
export const resultUrl = (baseUrl: string, id: string) => `${baseUrl.replace(/\/$/, '')}/results/${id}`;

/**
 * Results kept on disk under `directory`, named by a random id, served at `${baseUrl()}/results/<id>` (read at
 * save time: the port may be known only after listening).
 * Files older than `ttlMs` are treated as gone and removed on the next save.
 */
export function createFileResultStore(options: { directory: string; baseUrl: () => string; ttlMs: number }): ResultStore {
  const { directory, baseUrl, ttlMs } = options;
  let lastSweep = 0;

  async function sweepExpired(now: number): Promise<void> {
    if (now - lastSweep < 60_000) return;
    lastSweep = now;
    for (const name of await readdir(directory).catch(() => [] as string[])) {
      const file = path.join(directory, name);
      const info = await stat(file).catch(() => null);
      if (info && now - info.mtimeMs > ttlMs) await unlink(file).catch(() => undefined);
    }
  }

  return {
    async save(bytes, mimeType) {
      await mkdir(directory, { recursive: true });
      await sweepExpired(Date.now());
      const id = newResultId(mimeType);
      await writeFile(path.join(directory, id), bytes);
      return { id, url: resultUrl(baseUrl(), id), mimeType };
    },
    async load(id) {
      if (!isResultId(id)) return null;
      const file = path.join(directory, id);
      const info = await stat(file).catch(() => null);
      if (!info || Date.now() - info.mtimeMs > ttlMs) return null;
      const extension = id.split('.').pop()!;
      const mimeType = mediaTypeOfExtension(extension);
      return { bytes: await readFile(file), mimeType };
    },
    close: async () => undefined,
  };
}
