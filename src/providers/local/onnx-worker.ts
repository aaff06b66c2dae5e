import { Worker } from 'node:worker_threads';
import { disableRuntimeTelemetry } from '../../config.js';

/**
 * onnxruntime-node runs a session synchronously on the calling thread: one ISNet pass froze the event loop for
 * ~2.5 s, so an HTTP server answered nothing (not even /healthz or MCP progress) meanwhile. The session lives in a
 * worker thread instead. Its code is inline (CommonJS, `eval`) so that it runs the same from dist/ and from the
 * TypeScript sources under the tests, with the runtime's resolved path passed in.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const ort = require(workerData.runtimePath);
let session;
parentPort.on('message', async (message) => {
  try {
    if (message.type === 'load') {
      session = await ort.InferenceSession.create(message.model, message.options);
      parentPort.postMessage({ id: message.id, inputNames: session.inputNames, outputNames: session.outputNames });
      return;
    }
    const feeds = { [message.input]: new ort.Tensor('float32', message.data, message.dims) };
    const outputs = await session.run(feeds, [message.output]);
    const output = outputs[message.output];
    const data = output.data instanceof Float32Array ? output.data : Float32Array.from(output.data);
    parentPort.postMessage({ id: message.id, data, dims: output.dims }, [data.buffer]);
  } catch (error) {
    parentPort.postMessage({ id: message.id, error: String(error && error.message || error) });
  }
});
`;

export interface OnnxWorkerSession {
  inputNames: readonly string[];
  outputNames: readonly string[];
  run(input: string, data: Float32Array, dims: readonly number[], output: string): Promise<{ data: Float32Array; dims: readonly number[] }>;
  close(): Promise<void>;
}

interface Reply {
  id: number;
  error?: string;
  inputNames?: string[];
  outputNames?: string[];
  data?: Float32Array;
  dims?: number[];
}

/** Starts a worker, loads the model into it, and returns a session whose runs happen off the main thread. */
export async function startOnnxWorker(runtimePath: string, model: Uint8Array, options: Record<string, unknown>): Promise<OnnxWorkerSession> {
  disableRuntimeTelemetry();
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { runtimePath } });
  const pending = new Map<number, { resolve: (reply: Reply) => void; reject: (error: Error) => void }>();
  let nextId = 0;
  const failAll = (error: Error) => {
    for (const waiter of pending.values()) waiter.reject(error);
    pending.clear();
    holdWhileBusy();
  };
  worker.on('message', (reply: Reply) => {
    const waiter = pending.get(reply.id);
    if (!waiter) return;
    pending.delete(reply.id);
    holdWhileBusy();
    if (reply.error) waiter.reject(new Error(reply.error));
    else waiter.resolve(reply);
  });
  worker.on('error', failAll);
  worker.on('exit', (code) => failAll(new Error(`onnxruntime worker exited with code ${code}`)));
  // The model stays loaded for the life of the process, but an idle worker must not keep a finished CLI run
  // alive: it holds the process open only while a request is waiting on it.
  const holdWhileBusy = () => (pending.size > 0 ? worker.ref() : worker.unref());
  const request = (message: Record<string, unknown>, transfer: ArrayBuffer[] = []) =>
    new Promise<Reply>((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve, reject });
      holdWhileBusy();
      worker.postMessage({ ...message, id }, transfer);
    });

  const loaded = await request({ type: 'load', model, options }, [model.buffer as ArrayBuffer]);
  return {
    inputNames: loaded.inputNames ?? [],
    outputNames: loaded.outputNames ?? [],
    async run(input, data, dims, output) {
      const reply = await request({ type: 'run', input, data, dims, output }, [data.buffer as ArrayBuffer]);
      return { data: reply.data!, dims: reply.dims ?? [] };
    },
    async close() {
      await worker.terminate();
    },
  };
}
