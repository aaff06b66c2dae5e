import { z } from 'zod';

/**
 * How results come back, and what sharp does to them first. These are ours, not Alibaba's parameters, hence
 * lowerCamelCase beside Alibaba's PascalCase names. The peers (remove.bg, Aidge, AILabTools) offer the same.
 */
export const outputShape = {
  deliver: z
    .enum(['url', 'inline', 'stored', 'file'])
    .optional()
    .describe('url: provider link; inline: the image itself (MCP default); stored: a link kept by this server; file: written to disk (stdio)'),
  outputPath: z.string().min(1).optional().describe('deliver=file: a new file to create; never replaces one'),
  background: z
    .string()
    .regex(/^(transparent|white|black|#[0-9a-fA-F]{6})$/, 'transparent, white, black or #rrggbb')
    .optional()
    .describe('transparent (default), white, black or #rrggbb'),
  cropMargin: z.number().int().min(0).max(2000).optional().describe('crop to the subject with this margin (px)'),
  width: z.number().int().min(1).max(10000).optional().describe('fit inside width x height (px)'),
  height: z.number().int().min(1).max(10000).optional(),
  format: z.enum(['png', 'webp', 'jpg']).optional(),
};

export type OutputOptions = z.infer<z.ZodObject<typeof outputShape>>;
export type DeliveryMode = NonNullable<OutputOptions['deliver']>;
export const OUTPUT_OPTION_NAMES = Object.keys(outputShape) as Array<keyof OutputOptions>;
