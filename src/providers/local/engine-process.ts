import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { AppError } from '../../errors.js';
import type { Progress } from '../provider.js';
import { ENGINE_COMMAND, type EngineReply, type EngineRequest, type EngineSettings } from './engine-protocol.js';

/**
 * The engine's whole environment. onnxruntime writes a telemetry device id under ~/.cache/Microsoft unless told not
 * to (the server creates nothing outside its data directory). glibc would keep what libvips and onnxruntime free, in
 * up to eight arenas per core, and reuse little of it for the next call's tensors: two arenas, blocks from 128 KB
 * mapped on their own and free memory returned from 128 KB on keep it from piling up (measured on a 10000 x 10000
 * PNG: the second call in an engine peaked at 954 MB without these, 740 MB with them, and no slower).
 */
const ENGINE_ENVIRONMENT = { ORT_DISABLE_TELEMETRY: '1', MALLOC_ARENA_MAX: '2', MALLOC_MMAP_THRESHOLD_: '131072', MALLOC_TRIM_THRESHOLD_: '131072' };

/** The command's bundle (dist/cli.js), found above this module whether it runs from the bundle, dist/src/ or src/ (tests, after a build). */
function commandEntry(): string {
  let directory = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const entry = path.join(directory, 'dist', 'cli.js');
    if (existsSync(entry)) return entry;
    const parent = path.dirname(directory);
    if (parent === directory) throw new AppError('PROVIDER_NOT_CONFIGURED', 'The embedded models run in a process started from dist/cli.js, which is missing: run npm run build');
    directory = parent;
  }
}

type Answer = Exclude<EngineReply, { progress: Progress }>;
type Request = EngineRequest extends infer R ? (R extends unknown ? Omit<R, 'id'> : never) : never;

export interface EngineProcess {
  request(message: Request, onProgress?: (progress: Progress) => void): Promise<Answer>;
  /** False once the process has exited, by close() or not. */
  readonly alive: boolean;
  /** Ends the process; all its memory goes back to the system. */
  close(): Promise<void>;
}

export function startEngineProcess(settings: EngineSettings): EngineProcess {
  const child = spawn(process.execPath, [commandEntry(), ENGINE_COMMAND, JSON.stringify(settings)], {
    env: ENGINE_ENVIRONMENT,
    // Its log lines go to our stderr, the log stream; stdout (stdio's JSON-RPC) is never its.
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    serialization: 'advanced',
  });
  const pending = new Map<number, { resolve: (reply: Answer) => void; reject: (error: Error) => void; onProgress?: (progress: Progress) => void }>();
  let nextId = 0;
  let exited = false;
  const exit = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // An idle engine must not keep a finished CLI run alive: it holds the process open only while a request waits on it.
  const holdWhileBusy = () => {
    if (pending.size > 0) {
      child.ref();
      child.channel?.ref();
    } else {
      child.unref();
      child.channel?.unref();
    }
  };
  const failAll = (error: Error) => {
    for (const waiter of pending.values()) waiter.reject(error);
    pending.clear();
  };
  child.on('message', (reply: EngineReply) => {
    const waiter = pending.get(reply.id);
    if (!waiter) return;
    if ('progress' in reply) return waiter.onProgress?.(reply.progress);
    pending.delete(reply.id);
    holdWhileBusy();
    waiter.resolve(reply);
  });
  child.on('error', failAll);
  child.on('exit', (code, signal) => {
    exited = true;
    failAll(new Error(`the local engine process exited (${signal ?? `code ${code}`})`));
  });
  holdWhileBusy();

  return {
    request(message, onProgress) {
      return new Promise((resolve, reject) => {
        if (exited) return reject(new Error('the local engine process has exited'));
        const id = nextId++;
        pending.set(id, { resolve, reject, onProgress });
        holdWhileBusy();
        child.send({ ...message, id });
      });
    },
    get alive() {
      return !exited;
    },
    async close() {
      // Held until it has gone, so that a command ending meanwhile waits for it.
      child.ref();
      if (!exited) child.kill();
      await exit;
    },
  };
}
