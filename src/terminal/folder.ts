import { mkdir, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import cliProgress from 'cli-progress';
import type { AppContext } from '../app.js';
import { ConfigError } from '../config.js';
import { failureLine } from './output.js';
import { imageTool, parseOptions, runOnFile, type ImageRunOptions } from './one-image.js';

const IMAGE_FILE = /\.(jpe?g|png|bmp|webp|gif|tiff?)$/i;

/** The images directly in a folder, by name. */
async function imagesIn(folder: string): Promise<string[]> {
  const info = await stat(folder).catch(() => undefined);
  if (!info?.isDirectory()) throw new ConfigError(`${folder}: no such folder`);
  const entries = await readdir(folder, { withFileTypes: true });
  return entries.filter((entry) => entry.isFile() && IMAGE_FILE.test(entry.name)).map((entry) => entry.name).sort();
}

/** The extension of what the tool will return: what `format` asks for, JPEG for a white background, else PNG. */
function resultExtension(options: Record<string, unknown>): string {
  if (typeof options.format === 'string') return options.format;
  return options.ReturnForm === 'whiteBK' ? 'jpg' : 'png';
}

/** Progress on stderr: a bar at a terminal, plain "n/total name" lines in a log. */
function progressReporter(total: number) {
  if (process.stderr.isTTY) {
    const bar = new cliProgress.SingleBar(
      { stream: process.stderr, format: '{bar} {value}/{total} {file}', hideCursor: true, clearOnComplete: false },
      cliProgress.Presets.shades_classic,
    );
    bar.start(total, 0, { file: '' });
    const failures: string[] = [];
    return {
      step: (done: number, file: string, failure?: string) => {
        if (failure) failures.push(failure);
        bar.update(done, { file });
      },
      stop: () => {
        bar.stop();
        for (const failure of failures) process.stderr.write(`${failure}\n`);
      },
    };
  }
  return {
    step: (done: number, file: string, failure?: string) => process.stderr.write(`${done}/${total} ${file}${failure ? ' failed' : ''}\n${failure ? `${failure}\n` : ''}`),
    stop: () => undefined,
  };
}

/**
 * `imageseg-mcp p <folder> <out-folder>`: every image in a folder, one at a time, each result a new file
 * `<out-folder>/<name>.<ext>` (never replacing one). Non-zero exit when any image failed.
 */
export async function runFolderCommand(createContext: (roots: string[]) => AppContext, args: string[], options: ImageRunOptions): Promise<number> {
  const [folder, outFolder] = args;
  if (!folder || !outFolder) throw new ConfigError(`usage: imageseg-mcp p <folder> <out-folder> [--tool T] [--json '{options}']`);
  const names = await imagesIn(path.resolve(folder));
  await mkdir(path.resolve(outFolder), { recursive: true });
  const context = createContext([folder, outFolder]);
  const { capability, field } = imageTool(context, options.tool);
  const extra = parseOptions(options.json);
  const progress = progressReporter(names.length);
  let failed = 0;
  for (const [index, name] of names.entries()) {
    const input = path.resolve(folder, name);
    const output = path.resolve(outFolder, `${path.parse(name).name}.${resultExtension(extra)}`);
    const failure = await runOnFile(context, { capability, field, input, output, options: extra, paymentToken: options.paymentToken }).then(
      () => undefined,
      (error: unknown) => failureLine(error, path.join(folder, name)),
    );
    if (failure) failed += 1;
    progress.step(index + 1, name, failure);
  }
  progress.stop();
  process.stderr.write(`${names.length} image(s): ${names.length - failed} done, ${failed} failed; results in ${outFolder}\n`);
  return failed > 0 ? 1 : 0;
}
