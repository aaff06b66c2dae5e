import { z } from 'zod';
import type { Capability } from './capability.js';
import { outputShape } from './output-options.js';

const errorShape = z.object({
  code: z.string().describe('INVALID_ARGUMENT, PAYMENT_REQUIRED, IMAGE_TOO_LARGE, UPSTREAM_THROTTLED, JOB_TIMEOUT, ...'),
  message: z.string(),
  retryable: z.boolean(),
  details: z
    .looseObject({ payment: z.enum(['none', 'released', 'held', 'credited']).describe('held: collect jobId with async_job_result before heldUntil'), charged: z.literal(false) })
    .optional(),
});

/**
 * The seeds' output schema: every tool answers `{ code, content, data, message, requestId }`. Failed calls carry the
 * same fields plus `error` (MCP clients validate structuredContent against this schema even when isError is set),
 * and extra fields are allowed so an x402 PaymentRequired object fits too.
 */
export const toolOutputShape = {
  code: z.string().describe('"200" on success; the HTTP-equivalent status of the error otherwise'),
  content: z.string().describe('Short human-readable note about the result'),
  data: z
    .object({ Action: z.string().describe('The Alibaba imageseg Action that produced this result') })
    .catchall(z.unknown())
    .describe("The Action's result data, field names as Alibaba documents them (e.g. ImageURL, Elements, JobId)"),
  message: z.string(),
  requestId: z.string().describe('Provider request id (for asynchronous Actions, also the JobId)'),
  payment: z.enum(['committed', 'none', 'held', 'released']).optional().describe('committed: charged once'),
  error: z
    .union([errorShape, z.string()])
    .optional()
    .describe('Present only when the call failed: the error object, or for payment answers the x402 reason code (the rest of the x402 PaymentRequired object rides along)'),
};

export const toolOutputSchema = z.looseObject(toolOutputShape);
export type ToolOutput = z.infer<typeof toolOutputSchema>;

/** Arguments every paid tool takes besides the Action's own parameters. */
export const paymentShape = {
  paymentToken: z
    .string()
    .optional()
    .describe('Payment token from POST /api/payments (or minted by the operator); omit to receive payment instructions'),
};

/** The Action's parameters plus our output options, for capabilities that take (and so return) images. */
export function argumentShapeOf(capability: Capability): z.ZodRawShape {
  return Object.keys(capability.images).length > 0 ? { ...capability.input, ...outputShape } : capability.input;
}

/** What an MCP client sends: the arguments, plus paymentToken for paid tools (none when PAYMENTS=off). */
export function inputShapeOf(capability: Capability, options: { payments?: boolean; overStdio?: boolean } = {}): z.ZodRawShape {
  const shape = { ...argumentShapeOf(capability), ...(options.overStdio ? localPathShape(capability) : {}) };
  return capability.price && options.payments !== false ? { ...shape, ...paymentShape } : shape;
}

/** Over stdio an image parameter also takes a local path: its description says so (same schema otherwise). */
function localPathShape(capability: Capability): z.ZodRawShape {
  const shape: Record<string, z.ZodType> = {};
  for (const field of Object.keys(capability.images)) {
    const parameter = capability.input[field] as z.ZodType | undefined;
    if (parameter) shape[field] = parameter.describe(`${parameter.description ?? ''} ${LOCAL_PATH_NOTE}`.trim());
  }
  return shape;
}

const LOCAL_PATH_NOTE = 'Here (stdio) also a local file path such as /home/me/photo.jpg.';

const inputSchemas = new WeakMap<Capability, z.ZodObject>();

/**
 * Strict: an unknown parameter name is a mistake worth reporting (Alibaba names are case-sensitive). Built once per
 * capability: zod compiles a schema's parser on its first parse, so a fresh schema per call recompiled it every time
 * (bench row 2: about 400 -> 550 paid calls/s once cached).
 */
export function inputSchemaOf(capability: Capability): z.ZodObject {
  let schema = inputSchemas.get(capability);
  if (!schema) inputSchemas.set(capability, (schema = z.object(argumentShapeOf(capability)).strict()));
  return schema;
}

export function jsonSchemaOf(schema: z.ZodType): Record<string, unknown> {
  const { $schema: _ignored, ...jsonSchema } = z.toJSONSchema(schema, { target: 'draft-2020-12', io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return jsonSchema;
}

export function inputJsonSchemaOf(capability: Capability): Record<string, unknown> {
  return jsonSchemaOf(z.object(argumentShapeOf(capability)));
}

export const errorBodySchema = z.object({ error: errorShape });
