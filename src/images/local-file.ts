import path from 'node:path';
import { constants as fsConstants } from 'node:fs';
import { lstat, open, realpath } from 'node:fs/promises';
import { AppError } from '../errors.js';
import { describeBytes } from '../fetch/sizes.js';
import { isInside, resolvePlaces } from './places.js';

const KIND_NAMES: Array<[keyof import('node:fs').Stats, string]> = [
  ['isFIFO', 'a FIFO'], ['isCharacterDevice', 'a character device'], ['isBlockDevice', 'a block device'], ['isSocket', 'a socket'], ['isDirectory', 'a directory'],
];

function notRegular(field: string, filePath: string, stats: import('node:fs').Stats): AppError {
  const kind = KIND_NAMES.find(([test]) => (stats[test] as () => boolean).call(stats))?.[1] ?? 'not a regular file';
  return new AppError('IMAGE_INVALID', `${field}: ${filePath} is ${kind}; only regular image files are read`, { details: { field } });
}

/**
 * Reads a local image (stdio) without trusting it: inside the roots after resolving links, a regular file
 * (a FIFO would block, a device never ends), no larger than the Action accepts — all known before a byte is
 * read — then read to at most that size within the fetch deadline. O_NONBLOCK keeps a FIFO swapped in after
 * the check from blocking the open; fstat of the open descriptor re-checks what is actually read.
 */
export async function readAllowedFile(field: string, filePath: string, fileRoots: readonly string[], maxBytes: number, timeoutMs: number): Promise<Buffer> {
  if (fileRoots.length === 0) {
    throw new AppError('INVALID_ARGUMENT', `${field}: local files are accepted only over stdio`, { details: { field } });
  }
  const resolved = await realpath(path.resolve(filePath)).catch(() => {
    throw new AppError('IMAGE_UNREACHABLE', `${field}: no such file ${filePath}`, { details: { field } });
  });
  if (!isInside(resolved, await resolvePlaces(fileRoots))) {
    throw new AppError('INVALID_ARGUMENT', `${field}: ${filePath} is outside the allowed roots (IMAGESEG_FILE_ROOTS: ${fileRoots.join(', ')}); move it under one or add its folder there`, {
      details: { field },
    });
  }
  const tooBig = (bytes: number) =>
    new AppError('IMAGE_TOO_LARGE', `${field}: ${filePath} is ${describeBytes(bytes)}, over ${describeBytes(maxBytes)}`, { details: { field, bytes, limitBytes: maxBytes } });
  const before = await lstat(resolved);
  if (!before.isFile()) throw notRegular(field, filePath, before);
  if (before.size > maxBytes) throw tooBig(before.size);
  const handle = await open(resolved, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK | fsConstants.O_NOFOLLOW).catch((error: NodeJS.ErrnoException) => {
    throw new AppError('IMAGE_UNREACHABLE', `${field}: cannot open ${filePath} (${error.code ?? error.message})`, { details: { field }, cause: error });
  });
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) throw notRegular(field, filePath, stats);
    if (stats.dev !== before.dev || stats.ino !== before.ino) {
      throw new AppError('IMAGE_UNREACHABLE', `${field}: ${filePath} changed while it was being opened`, { details: { field } });
    }
    if (stats.size > maxBytes) throw tooBig(stats.size);
    const deadline = Date.now() + timeoutMs;
    // One byte of room shows a file that grew past the limit after fstat.
    const buffer = Buffer.alloc(Math.min(stats.size, maxBytes) + 1);
    let filled = 0;
    while (filled < buffer.length) {
      if (Date.now() > deadline) throw new AppError('IMAGE_UNREACHABLE', `${field}: reading ${filePath} took over ${timeoutMs} ms`, { details: { field } });
      const { bytesRead } = await handle.read(buffer, filled, Math.min(buffer.length - filled, 1024 * 1024), filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    if (filled > maxBytes) throw tooBig(filled);
    return buffer.subarray(0, filled);
  } finally {
    await handle.close();
  }
}
