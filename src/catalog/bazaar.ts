import { z } from 'zod';
import { BAZAAR, bazaarResourceServerExtension, declareDiscoveryExtension } from '@x402/extensions/bazaar';
import type { Capability } from './capability.js';
import { inputJsonSchemaOf, jsonSchemaOf } from './schemas.js';
import { exampleArguments, exampleOutput } from './examples.js';

/** What a payment buys, as discovery describes it: one call, a batch of calls, or a payment token. */
export type PurchaseKind = 'call' | 'batch' | 'token';

const BATCH_EXAMPLE_ITEMS = 2;

function batchOutput(capability: Capability): Record<string, unknown> {
  const item = exampleOutput(capability);
  const results = Array.from({ length: BATCH_EXAMPLE_ITEMS }, (_, index) => ({ index, ok: true, requestId: item.requestId, data: item.data }));
  return { code: '200', content: `${capability.title}: ${BATCH_EXAMPLE_ITEMS} of ${BATCH_EXAMPLE_ITEMS} item(s) succeeded`, data: { Action: 'Batch', ServiceId: capability.serviceId, Results: results }, message: 'success', requestId: item.requestId };
}

/** What the HTTP route takes for this purchase: its example body and that body's JSON Schema. */
function httpInput(capability: Capability, kind: PurchaseKind) {
  if (kind === 'token') {
    return {
      input: { serviceId: capability.serviceId },
      inputSchema: { type: 'object', properties: { serviceId: { type: 'string', const: capability.serviceId } }, required: ['serviceId'] },
      output: { paymentToken: 'imgseg_…', serviceId: capability.serviceId, callsRemaining: capability.price?.maxCallsPerPayment ?? 1, expiresAt: '2026-12-31T00:00:00.000Z' },
    };
  }
  if (kind === 'batch') {
    return {
      input: { items: Array.from({ length: BATCH_EXAMPLE_ITEMS }, () => exampleArguments(capability)) },
      inputSchema: { type: 'object', properties: { items: { type: 'array', minItems: 1, maxItems: 20, items: inputJsonSchemaOf(capability) } }, required: ['items'] },
      output: batchOutput(capability),
    };
  }
  return { input: exampleArguments(capability), inputSchema: inputJsonSchemaOf(capability), output: exampleOutput(capability) };
}

const httpDeclarations = new Map<string, Record<string, unknown>>();

/**
 * x402 Bazaar discovery metadata (`extensions.bazaar`) for a REST route: POST with a JSON body, its example and
 * schema, and an example answer, declared with @x402/extensions and enriched with the method as its resource
 * server extension does.
 */
export function httpDiscoveryOf(capability: Capability, kind: PurchaseKind, path: string): Record<string, unknown> {
  const cacheKey = `${capability.serviceId}:${kind}:${path}`;
  let declaration = httpDeclarations.get(cacheKey);
  if (!declaration) {
    const { input, inputSchema, output } = httpInput(capability, kind);
    const declared = declareDiscoveryExtension({ bodyType: 'json', input, inputSchema, output: { example: output } })[BAZAAR.key];
    declaration = bazaarResourceServerExtension.enrichDeclaration!(declared, { method: 'POST', adapter: { getPath: () => path } }) as Record<string, unknown>;
    httpDeclarations.set(cacheKey, declaration);
  }
  return { [BAZAAR.key]: declaration };
}

/** The same for an MCP tool: its name, description, input schema, an example call and answer. */
export function mcpDiscoveryOf(tool: { name: string; description: string; inputShape: z.ZodRawShape; example: Record<string, unknown>; output: Record<string, unknown> }): Record<string, unknown> {
  const declared = declareDiscoveryExtension({
    toolName: tool.name,
    description: tool.description,
    transport: 'streamable-http',
    inputSchema: jsonSchemaOf(z.object(tool.inputShape)),
    example: tool.example,
    output: { example: tool.output },
  });
  return { [BAZAAR.key]: declared[BAZAAR.key] };
}

/** For the batch tool's 402: an example batch of this capability's calls. */
export const batchExample = (capability: Capability) => ({ tool: capability.tool, items: httpInput(capability, 'batch').input.items });
export const batchExampleOutput = batchOutput;
