import { pino, type Logger } from 'pino';

export type { Logger };

/** Logs go to stderr only: over stdio, stdout belongs to JSON-RPC. */
export function createLogger(level: string): Logger {
  return pino({ level, base: { service: 'imageseg-mcp' } }, pino.destination({ fd: 2, sync: false }));
}
