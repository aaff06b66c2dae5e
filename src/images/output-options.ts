import { z } from 'zod';

/**
 * How results come back, and what sharp does to them first. These are ours, not Alibaba's parameters, hence
 * lowerCamelCase beside Alibaba's PascalCase names. The peers (remove.bg, Aidge, AILabTools) offer the same.
 */
export const outputShape = {
  deliver: z
    .enum(['url', 'inline', 'stored', 'file'])
    .optional()
    .describe(
      'How result images come back. "url": the provider\'s link (Alibaba links expire after 30 minutes; default for REST); ' +
        '"inline": the image itself (MCP image content, or a data: URL over REST; default for MCP when small); ' +
        '"stored": a link to this server\'s /results/<id>, kept for IMAGESEG_RESULT_TTL (default 24 h); ' +
        '"file": written to disk (stdio only) at outputPath or next to the input file.',
    ),
  outputPath: z.string().min(1).optional().describe('deliver="file": a new file to create (inside IMAGESEG_FILE_ROOTS; an existing file or link is refused, never replaced); default a free name next to the input file or in the working directory'),
  background: z
    .string()
    .regex(/^(transparent|white|black|#[0-9a-fA-F]{6})$/, 'transparent, white, black or #rrggbb')
    .optional()
    .describe('Background behind the cutout: transparent (default), white, black or #rrggbb'),
  cropMargin: z.number().int().min(0).max(2000).optional().describe('Crop to the subject, keeping this many pixels of margin around it'),
  width: z.number().int().min(1).max(10000).optional().describe('Target width in pixels; the cutout is fitted inside width x height without distortion'),
  height: z.number().int().min(1).max(10000).optional().describe('Target height in pixels'),
  format: z.enum(['png', 'webp', 'jpg']).optional().describe('Output format; jpg has no transparency, so the background defaults to white'),
};

const outputSchema = z.object(outputShape);
export type OutputOptions = z.infer<typeof outputSchema>;
export type DeliveryMode = NonNullable<OutputOptions['deliver']>;
export const OUTPUT_OPTION_NAMES = Object.keys(outputShape) as Array<keyof OutputOptions>;

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
  return { params, options: options as OutputOptions };
}
