/**
 * Module hooks (run by node:module `register` on the loader thread) for module-count-preload: every ES module or
 * JSON file loaded adds one to a counter shared with the main thread. CommonJS files are counted there.
 */
let counter: Int32Array;

export function initialize(data: { counter: SharedArrayBuffer }): void {
  counter = new Int32Array(data.counter);
}

type NextLoad = (url: string, context: unknown) => Promise<{ format?: string | null }>;

export async function load(url: string, context: unknown, nextLoad: NextLoad): Promise<{ format?: string | null }> {
  const loaded = await nextLoad(url, context);
  if (url.startsWith('file:') && loaded.format !== 'commonjs') Atomics.add(counter, 0, 1);
  return loaded;
}
