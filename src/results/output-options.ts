import { OUTPUT_OPTION_NAMES, type OutputOptions } from '../catalog/output-options.js';

/** True when sharp has to rework the provider's image. */
export function wantsTransform(options: OutputOptions): boolean {
  return (
    (options.background !== undefined && options.background !== 'transparent') ||
    options.cropMargin !== undefined ||
    options.width !== undefined ||
    options.height !== undefined ||
    options.format !== undefined
  );
}

/** Separates our output options from the Action's own parameters. */
export function splitOutputOptions(args: Record<string, unknown>): { params: Record<string, unknown>; options: OutputOptions } {
  const params: Record<string, unknown> = {};
  const options: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(args)) {
    if ((OUTPUT_OPTION_NAMES as string[]).includes(name)) options[name] = value;
    else params[name] = value;
  }
  return { params, options: options };
}
