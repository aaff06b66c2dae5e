import { stat } from 'node:fs/promises';
import path from 'node:path';
import { AppError } from '../errors.js';
import type { AppContext } from '../app.js';
import { ConfigError, type Config } from '../config.js';
import { imageFieldOf, type Capability } from '../catalog/capability.js';
import { failureLine, readStdin, writeStdout } from './output.js';

export const DEFAULT_TOOL = 'product_background_removal';

export interface ImageRunOptions {
  tool?: string;
  json?: string;
  paymentToken?: string;
}

/** The capability a terminal command runs, and the image parameter the input goes to. */
export function imageTool(context: AppContext, tool = DEFAULT_TOOL): { capability: Capability; field: string } {
  const capability = context.catalog.find(tool);
  if (!capability) throw new ConfigError(`unknown tool "${tool}"; run imageseg-mcp list`);
  const field = imageFieldOf(capability, 'primary');
  if (!field) throw new ConfigError(`${capability.tool} takes no image; use imageseg-mcp call ${capability.tool} --json '{...}'`);
  return { capability, field };
}

export function parseOptions(json: string | undefined): Record<string, unknown> {
  if (json === undefined) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch (error) {
    throw new ConfigError(`--json is not valid JSON: ${(error as Error).message}`);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new ConfigError(`--json must be an object such as '{"ReturnForm":"mask"}'`);
  return parsed as Record<string, unknown>;
}

/** The folders a terminal command names are the user's own choice: images may be read from and written there. */
export function withFileRoots(config: Config, folders: string[]): Config {
  const fileRoots = [...new Set([...config.images.fileRoots, ...folders.map((folder) => path.resolve(folder))])];
  return { ...config, images: { ...config.images, fileRoots } };
}

/**
 * One image through one tool, the pipeline's delivery doing the writing (a new file, never a replaced one) so the
 * call is paid for only once the result is there. Returns the result's content line.
 */
export async function runOnFile(context: AppContext, request: { capability: Capability; field: string; input: string; output: string; options: Record<string, unknown>; paymentToken?: string }): Promise<string> {
  const outcome = await context.pipeline({
    tool: request.capability.tool,
    arguments: { ...request.options, [request.field]: request.input, deliver: 'file', outputPath: request.output },
    transport: 'cli',
    payment: { token: request.paymentToken },
  });
  return outcome.output.content;
}

/** `imageseg-mcp i <input|-> <output|->`: rembg's one-image habit. */
export async function runImageCommand(createContext: (roots: string[]) => AppContext, args: string[], options: ImageRunOptions): Promise<number> {
  const [input, output] = args;
  if (!input || !output) throw new ConfigError(`usage: imageseg-mcp i <input|-> <output|-> [--tool T] [--json '{options}']`);
  const folders = [input, output].filter((name) => name !== '-').map((name) => path.dirname(path.resolve(name)));
  const context = createContext(folders);
  const { capability, field } = imageTool(context, options.tool);
  const extra = parseOptions(options.json);
  const label = input === '-' ? 'stdin' : input;
  try {
    if (input !== '-' && !(await stat(input).then((info) => info.isFile(), () => false))) throw new AppError('IMAGE_UNREACHABLE', 'no such file; give the path of an image file');
    const source = input === '-' ? `data:application/octet-stream;base64,${(await readStdin()).toString('base64')}` : path.resolve(input);
    if (output !== '-') {
      await runOnFile(context, { capability, field, input: source, output: path.resolve(output), options: extra, paymentToken: options.paymentToken });
      return 0;
    }
    const outcome = await context.pipeline({
      tool: capability.tool,
      arguments: { ...extra, [field]: source, deliver: 'inline' },
      transport: 'cli',
      payment: { token: options.paymentToken },
    });
    const [image] = outcome.inline;
    if (!image) throw new ConfigError(`${capability.tool} returned no image`);
    await writeStdout(image.bytes);
    return 0;
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    process.stderr.write(`${failureLine(error, label)}\n`);
    return 1;
  }
}
