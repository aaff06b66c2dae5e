import { AppError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import type { Progress } from '../provider.js';
import type { EncodedImage } from './alpha-output.js';
import type { EngineError, EngineSettings, LocalCallRequest, PreparedModel } from './engine-protocol.js';
import { startEngineProcess, type EngineProcess } from './engine-process.js';
import { releasedWhenIdle } from './idle-release.js';

/**
 * The embedded models run in a process of their own, the engine (engine-main.ts), started on the first call and
 * ended `idleMs` after the last one. In the server's own process, an ISNet session once loaded was never given back
 * (1.45 GB for good with the arena), and what glibc keeps of freed image buffers only grew with each large image;
 * a process that ends returns every byte. ISNet's model files are prepared once per server, by an engine of its own
 * (the one-time conversion's memory goes with it), and handed to every engine after.
 */
export interface LocalEngine {
  run(request: Omit<LocalCallRequest, 'isnet'>, onProgress?: (progress: Progress) => void): Promise<EncodedImage>;
}

function failure({ code, message, retryable, details }: EngineError): Error {
  return code ? new AppError(code, message, { retryable, details }) : new Error(message);
}

export function createLocalEngine(options: { logger: Logger; settings: EngineSettings; idleMs: number }): LocalEngine {
  const { logger, settings, idleMs } = options;
  const engine = releasedWhenIdle<EngineProcess>({
    load: async () => startEngineProcess(settings),
    async unload(running) {
      await running.close();
      logger.info({ idleSeconds: idleMs / 1000 }, 'local engine ended: its memory is returned');
    },
    idleMs,
    usable: (running) => running.alive,
  });

  let preparing: Promise<PreparedModel | null> | undefined;
  const prepared = () => {
    preparing ??= (async () => {
      const once = startEngineProcess(settings);
      try {
        const reply = await once.request({ type: 'prepare' });
        if ('error' in reply) throw failure(reply.error);
        return 'prepared' in reply ? reply.prepared : null;
      } finally {
        await once.close();
      }
    })();
    preparing.catch(() => (preparing = undefined));
    return preparing;
  };

  return {
    async run(request, onProgress) {
      const isnet = request.model === 'salient-object' ? ((await prepared()) ?? undefined) : undefined;
      return engine.use(async (running) => {
        let reply;
        try {
          reply = await running.request({ type: 'call', call: { ...request, ...(isnet ? { isnet } : {}) } }, onProgress);
        } catch (error) {
          // An engine that died during the call (killed for memory, say) is not kept: the next call starts a new one.
          if (!running.alive) await engine.release();
          throw error;
        }
        if ('error' in reply) {
          // Model files gone since they were prepared (a cleaned data directory): prepare them again next time.
          if (isnet && reply.error.code === 'PROVIDER_NOT_CONFIGURED') preparing = undefined;
          throw failure(reply.error);
        }
        if (!('encoded' in reply)) throw new Error('the local engine answered a call with something else');
        return reply.encoded;
      });
    },
  };
}
