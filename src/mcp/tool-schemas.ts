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
const inputSchemas = new WeakMap<Capability, Map<string, z.ZodObject>>();

/** A tool's input schema as MCP clients see it (the shape inputShapeOf gives), one object per capability and listing. */
export function toolInputSchema(capability: Capability, listing: Listing): z.ZodObject {
  const key = `${listing.payments}:${listing.overStdio}`;
  let byListing = inputSchemas.get(capability);
  if (!byListing) inputSchemas.set(capability, (byListing = new Map()));
  let schema = byListing.get(key);
  if (!schema) byListing.set(key, (schema = z.object(inputShapeOf(capability, listing))));
  return schema;
}

let ajv: AjvJsonSchemaValidator | undefined;

/** The SDK's Ajv validator, made on first use (elicitation schemas) and shared by every server. */
export const sharedJsonSchemaValidator: jsonSchemaValidator = {
  getValidator: (schema) => (ajv ??= new AjvJsonSchemaValidator()).getValidator(schema),
};
