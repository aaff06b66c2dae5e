import { operatorMessage, toAppError } from '../errors.js';

/**
 * `imageseg-mcp list | head -1`: once the reader has gone, a write fails with EPIPE; that is the reader's choice,
 * not an error worth a stack trace. Exit quietly.
 */
export function exitQuietlyOnClosedPipes(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
      throw error;
    });
  }
}

/** One line a person at a terminal can act on: the file, what went wrong, the code; never a stack trace. */
export function failureLine(error: unknown, file?: string): string {
  const appError = toAppError(error);
  return `imageseg-mcp: ${file ? `${file}: ` : ''}${operatorMessage(appError).replace(/\s+/g, ' ')} (${appError.code})`;
}

/** Reads all of stdin (`-` as the input). */
export async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Writes to stdout and waits until it is handed over, so the process may exit right after. */
export function writeStdout(bytes: Buffer | string): Promise<void> {
  return new Promise((resolve, reject) => process.stdout.write(bytes, (error) => (error ? reject(error) : resolve())));
}
