/**
 * `node --import <this file>`: counts the JavaScript and JSON files a process loads until it first writes to stdout
 * (for an MCP stdio server: the answer to `initialize`), and writes the number to $BENCH_MODULE_COUNT_FILE.
 * ES modules are counted by module-count-hooks on the loader thread, CommonJS files here as they are compiled.
 */
import { writeFileSync } from 'node:fs';
import Module, { register } from 'node:module';

const counter = new SharedArrayBuffer(4);
register('./module-count-hooks.js', import.meta.url, { data: { counter } });

const commonJs = new Set<string>();
type Compile = (content: string, filename: string) => unknown;
const prototype = Module.prototype as unknown as { _compile: Compile };
const compile = prototype._compile;
prototype._compile = function (this: unknown, content, filename) {
  commonJs.add(filename);
  return compile.call(this, content, filename);
};
type JsonLoader = (module: unknown, filename: string) => void;
const extensions = (Module as unknown as { _extensions: Record<string, JsonLoader> })._extensions;
const loadJson = extensions['.json'];
extensions['.json'] = (module, filename) => {
  commonJs.add(filename);
  loadJson(module, filename);
};

const write = process.stdout.write.bind(process.stdout) as (...args: unknown[]) => boolean;
let counted = false;
process.stdout.write = ((...args: unknown[]) => {
  if (!counted) {
    counted = true;
    writeFileSync(process.env.BENCH_MODULE_COUNT_FILE!, String(Atomics.load(new Int32Array(counter), 0) + commonJs.size));
  }
  return write(...args);
});
