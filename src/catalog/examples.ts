import type { Capability, ResultShape } from './capability.js';
import { inputJsonSchemaOf } from './schemas.js';

const EXAMPLE_RESULT = 'https://example.com/result.png';
const EXAMPLE_JOB_ID = 'E75FE679-0303-4DD1-8252-1143B4FA8A27';

/** One result image where each shape puts it; a finished job's like that of an Action answering `{ ImageURL }`. */
const EXAMPLE_DATA: Record<ResultShape, Record<string, unknown>> = {
  ImageURL: { ImageURL: EXAMPLE_RESULT },
  ImageUrl: { ImageUrl: EXAMPLE_RESULT },
  URL: { URL: EXAMPLE_RESULT },
  Elements: { Elements: [{ ImageURL: EXAMPLE_RESULT }] },
  ElementsWithOrigin: { Elements: [{ ImageURL: EXAMPLE_RESULT }] },
  Job: { ImageURL: EXAMPLE_RESULT },
};

/** An example request body: required parameters with plausible values. */
export function exampleArguments(capability: Capability): Record<string, unknown> {
  const schema = inputJsonSchemaOf(capability) as { required?: string[]; properties?: Record<string, { type?: string; enum?: unknown[] }> };
  const example: Record<string, unknown> = {};
  for (const name of schema.required ?? []) {
    const property = schema.properties?.[name] ?? {};
    if (name in capability.images) example[name] = 'https://example.com/image.jpg';
    else if (property.enum) example[name] = property.enum[0];
    else if (property.type === 'boolean') example[name] = false;
    else if (property.type === 'integer' || property.type === 'number') example[name] = 1;
    else example[name] = name === capability.jobResult?.jobIdParameter ? EXAMPLE_JOB_ID : 'value';
  }
  return example;
}

/** A successful answer in the seeds' shape, with the result image where this Action puts it. */
export function exampleOutput(capability: Capability): Record<string, unknown> {
  return { code: '200', content: `${capability.title}: 1 result image(s)`, data: { Action: capability.action, ...EXAMPLE_DATA[capability.resultShape], Provider: 'alibaba' }, message: 'success', requestId: '6F1C5A2E-0000-4000-8000-000000000000' };
}
