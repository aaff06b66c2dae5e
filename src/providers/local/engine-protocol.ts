import type { LocalModel } from '../../catalog/capability.js';
import type { ErrorCode } from '../../errors.js';
import type { Progress } from '../provider.js';
import type { EncodedImage, ReturnForm } from './alpha-output.js';

/**
 * What the server and its local engine process say to each other (Node IPC, structured clone: Buffers travel as
 * bytes). The engine runs every embedded-model call, one at a time; see engine.ts for why it is a process.
 */

/** The hidden subcommand that runs an engine process: `imageseg-mcp local-engine <settings JSON>`. */
export const ENGINE_COMMAND = 'local-engine';

export interface EngineSettings {
  /** Where models derived from the weights are cached (the data directory's `models/`). */
  modelDirectory: string;
  /** onnxruntime's CPU memory arena: faster runs, and the arena's memory kept between them. */
  memoryArena: boolean;
  logLevel: string;
}

/** A model file (read by the engine itself) or the model's bytes. */
export type ModelSource = { file: string } | { bytes: Uint8Array };

/** ISNet as prepared for this machine: the graph to load and whether onnxruntime already optimized it. */
export interface PreparedModel {
  model: ModelSource;
  optimized: boolean;
  /** For the log: which form of the weights this is and where it came from. */
  form: string;
}

export interface LocalCallRequest {
  model: LocalModel;
  image: { field: string; bytes: Buffer };
  /** RefineMask's rough mask. */
  mask?: { field: string; bytes: Buffer };
  returnForm: ReturnForm;
  /** Set on salient-object calls. */
  isnet?: PreparedModel;
}

export type EngineRequest = { id: number; type: 'prepare' } | { id: number; type: 'call'; call: LocalCallRequest };

export interface EngineError {
  code?: ErrorCode;
  message: string;
  retryable?: boolean;
  details?: Record<string, unknown>;
}

export type EngineReply =
  | { id: number; progress: Progress }
  /** null: nothing could be cached (the data directory is not writable): each engine prepares ISNet for itself. */
  | { id: number; prepared: PreparedModel | null }
  | { id: number; encoded: EncodedImage }
  | { id: number; error: EngineError };
