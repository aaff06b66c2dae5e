import type { ModelSource } from './engine-protocol.js';

/** An onnxruntime session in this process (the local engine's): runs one graph, float32 in and out. */
export interface OnnxSession {
  inputNames: readonly string[];
  outputNames: readonly string[];
  run(input: string, data: Float32Array, dims: readonly number[], output: string): Promise<{ data: Float32Array; dims: readonly number[] }>;
  release(): Promise<void>;
}

export async function createOnnxSession(model: ModelSource, options: Record<string, unknown>): Promise<OnnxSession> {
  // Loaded on first use: the runtime is a native addon of ~20 MB that most processes never need.
  const ort = await import('onnxruntime-node');
  const session = 'file' in model ? await ort.InferenceSession.create(model.file, options) : await ort.InferenceSession.create(model.bytes, options);
  return {
    inputNames: session.inputNames,
    outputNames: session.outputNames,
    async run(input, data, dims, output) {
      const outputs = await session.run({ [input]: new ort.Tensor('float32', data, dims) }, [output]);
      const tensor = outputs[output];
      return { data: tensor.data instanceof Float32Array ? tensor.data : Float32Array.from(tensor.data as ArrayLike<number>), dims: tensor.dims };
    },
    release: () => session.release(),
  };
}
