import { z } from 'zod';
import { AjvJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/ajv';
import type { jsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/types.js';
import type { Capability } from '../catalog/capability.js';
import { inputShapeOf } from '../catalog/schemas.js';
import type { Listing } from './describe.js';

/**
 * What every McpServer of this process shares. Over stateless HTTP each POST gets its own McpServer, so anything
 * it builds itself is built per call: a raw input shape becomes a new zod object whose parser zod compiles again
 * on its first parse, and the server's default JSON Schema validator is a new Ajv instance (about half of a
 * server's construction). Both are built once here instead.
 */
const built = new WeakMap<object, Map<string, z.ZodObject>>();

/** The input schema `build` makes for `owner` (a capability, the catalog) in one variant, built once per process. */
export function schemaOnce<Schema extends z.ZodObject>(owner: object, variant: string, build: () => Schema): Schema {
  let variants = built.get(owner);
  if (!variants) built.set(owner, (variants = new Map<string, z.ZodObject>()));
  let schema = variants.get(variant) as Schema | undefined;
  if (!schema) variants.set(variant, (schema = build()));
  return schema;
}

/** A tool's input schema as MCP clients see it (the shape inputShapeOf gives), one object per capability and listing. */
export function toolInputSchema(capability: Capability, listing: Listing): z.ZodObject {
  return schemaOnce(capability, `${listing.payments}:${listing.overStdio}`, () => z.object(inputShapeOf(capability, listing)));
}

let ajv: AjvJsonSchemaValidator | undefined;

/** The SDK's Ajv validator, made on first use (elicitation schemas) and shared by every server. */
export const sharedJsonSchemaValidator: jsonSchemaValidator = {
  getValidator: (schema) => (ajv ??= new AjvJsonSchemaValidator()).getValidator(schema),
};
