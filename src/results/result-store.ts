import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile, readdir, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { RESULT_EXTENSIONS, mediaTypeOfExtension } from '../images/media-types.js';

export interface StoredResult {
  id: string;
  url: string;
  mimeType: string;
}

export interface ResultStore {
  save(bytes: Buffer, mimeType: string): Promise<StoredResult>;
  /** null when unknown or expired. */
  load(id: string): Promise<{ bytes: Buffer; mimeType: string } | null>;
  /** Deletes the results expired at `now`: how many this call deleted. */
  sweep(now: number): Promise<number>;
  /** Results kept now, expired ones not yet swept included. */
  count(): Promise<number>;
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
 * Files older than `ttlMs` are treated as gone, and deleted by the sweeper.
 */
export function createFileResultStore(options: { directory: string; baseUrl: () => string; ttlMs: number }): ResultStore {
  const { directory, baseUrl, ttlMs } = options;
  const names = () => readdir(directory).catch(() => [] as string[]);

  return {
    async save(bytes, mimeType) {
      await mkdir(directory, { recursive: true });
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
    async sweep(now) {
      let deleted = 0;
      for (const name of await names()) {
        const file = path.join(directory, name);
        const info = await stat(file).catch(() => null);
        // Another process sweeping the same folder may unlink it first: only a deletion made here counts.
        if (info && now - info.mtimeMs > ttlMs && (await unlink(file).then(() => true, () => false))) deleted += 1;
      }
      return deleted;
    },
    count: async () => (await names()).length,
    close: async () => undefined,
  };
}
