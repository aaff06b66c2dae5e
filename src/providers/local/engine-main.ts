import { AppError } from '../../errors.js';
import { createLogger } from '../../logger.js';
import type { EngineError, EngineReply, EngineRequest, EngineSettings } from './engine-protocol.js';
import { prepareIsnet } from './isnet-model.js';
import { createLocalCallRunner } from './local-call.js';

function engineError(error: unknown): EngineError {
  if (error instanceof AppError && error.code !== 'INTERNAL') return { code: error.code, message: error.message, retryable: error.retryable, details: error.options.details };
  return { message: error instanceof Error ? error.message : String(error) };
}

/** The engine process (`imageseg-mcp local-engine <settings JSON>`): answers its parent's requests until it is ended. */
export function runLocalEngine(settingsJson: string): void {
  const settings = JSON.parse(settingsJson) as EngineSettings;
  const logger = createLogger(settings.logLevel).child({ provider: 'local', engine: process.pid });
  const runCall = createLocalCallRunner(settings, logger);
  const send = (reply: EngineReply) => process.send!(reply);
  // The server went away: so does its engine.
  process.on('disconnect', () => process.exit(0));
  process.on('message', (request: EngineRequest) => {
    const answer = async (): Promise<EngineReply> => {
      if (request.type === 'prepare') {
        const prepared = await prepareIsnet(settings, logger);
        // Bytes (the cache could not be written) are not worth sending: each serving engine prepares them itself.
        return { id: request.id, prepared: 'file' in prepared.model ? prepared : null };
      }
      return { id: request.id, encoded: await runCall(request.call, (progress) => send({ id: request.id, progress })) };
    };
    answer().then(send, (error: unknown) => send({ id: request.id, error: engineError(error) }));
  });
}
