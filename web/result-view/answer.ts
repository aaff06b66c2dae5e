import type { McpUiToolResultNotification } from '@modelcontextprotocol/ext-apps';
import type { Price } from '../shared/price.js';

/** A tool result as the host hands it to the view (`ui/notifications/tool-result`, or callServerTool's answer). */
export type ToolResult = McpUiToolResultNotification['params'];

/** `_meta["imageseg/view"]` of a successful answer, as src/mcp/result-view.ts writes it. */
interface ViewMeta {
  input?: { uri: string; mimeType: string };
  results?: Array<{ field: string; mimeType: string; uri?: string; content?: number }>;
}

/** One result image: a result resource to read through the host, and/or its base64 from the answer itself. */
export interface ResultSource {
  field: string;
  mimeType: string;
  uri?: string;
  base64?: string;
}

/** What the view shows for an answer. */
export type Answer =
  | { kind: 'images'; summary: string; results: ResultSource[]; input?: { uri: string; mimeType: string } }
  | { kind: 'nothing-to-draw'; summary: string; links: string[] }
  | { kind: 'payment'; invalid: boolean; price?: Price; serviceId?: string; tool?: string; x402: boolean; message: string }
  | { kind: 'job'; jobId: string; message: string }
  | { kind: 'error'; code: string; message: string; retryable: boolean; payment?: string; heldUntil?: string; requestId?: string };

type Json = Record<string, unknown>;
const objectOr = (value: unknown): Json | undefined => (value && typeof value === 'object' && !Array.isArray(value) ? (value as Json) : undefined);
const text = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

/** A job result that is not final yet (async_job_result's Data.Status). */
const STILL_RUNNING = new Set(['QUEUING', 'PROCESSING']);
const PAYMENT_CODES = new Set(['PAYMENT_REQUIRED', 'PAYMENT_INVALID']);

/** The x402 PaymentRequired object an answer carries: in structuredContent, or the extension binding's `paymentRequired`. */
function paymentOf(result: ToolResult, structured: Json | undefined): Answer | undefined {
  const binding = objectOr((result as Json).paymentRequired);
  const required = binding ?? (structured && (PAYMENT_CODES.has(String(structured.content)) || 'x402Version' in structured) ? structured : undefined);
  if (!required) return undefined;
  const extensions = objectOr(required.extensions);
  const price = objectOr(extensions?.price);
  return {
    kind: 'payment',
    invalid: structured?.content === 'PAYMENT_INVALID',
    ...(price && text(price.amount) && text(price.currency) ? { price: { amount: String(price.amount), currency: String(price.currency), billing: text(price.billing) } } : {}),
    serviceId: text(extensions?.serviceId),
    tool: text(extensions?.tool),
    x402: Array.isArray(required.accepts) && required.accepts.length > 0,
    message: text(structured?.message) ?? '',
  };
}

function errorOf(result: ToolResult, structured: Json | undefined): Answer {
  const error = objectOr(structured?.error);
  const details = objectOr(error?.details);
  const firstText = result.content?.find((block) => block.type === 'text');
  const code = text(error?.code) ?? text(structured?.content) ?? 'ERROR';
  const message = text(error?.message) ?? text(structured?.message) ?? (firstText?.type === 'text' ? firstText.text : 'The tool failed.');
  const jobId = text(details?.jobId);
  if (code === 'JOB_TIMEOUT' && jobId) return { kind: 'job', jobId, message };
  return {
    kind: 'error',
    code,
    message,
    retryable: error?.retryable === true,
    ...(text(details?.payment) ? { payment: String(details!.payment) } : {}),
    ...(text(details?.heldUntil) ? { heldUntil: String(details!.heldUntil) } : {}),
    ...(text(structured?.requestId) ? { requestId: String(structured!.requestId) } : {}),
  };
}

/**
 * What an answer is to the view: images to draw (where to get each, from `_meta["imageseg/view"]`, or else the image
 * blocks), a payment to make, a job still running, or an error in plain words.
 */
export function readAnswer(result: ToolResult, jobIdArgument?: string): Answer {
  const structured = objectOr(result.structuredContent);
  const payment = paymentOf(result, structured);
  if (payment) return payment;
  if (result.isError) return errorOf(result, structured);

  const summary = text(structured?.content) ?? '';
  const content = result.content ?? [];
  const meta = objectOr(result._meta?.['imageseg/view']) as ViewMeta | undefined;
  const inline = (index: number | undefined) => {
    const block = index === undefined ? undefined : content[index];
    return block?.type === 'image' ? block.data : undefined;
  };
  const results: ResultSource[] = meta?.results
    ? meta.results.map((entry) => ({ field: entry.field, mimeType: entry.mimeType, ...(entry.uri ? { uri: entry.uri } : {}), ...(inline(entry.content) ? { base64: inline(entry.content) } : {}) }))
    : content.flatMap((block, index) => (block.type === 'image' ? [{ field: `Image ${index}`, mimeType: block.mimeType, base64: block.data }] : []));
  const drawable = results.filter((source) => source.uri || source.base64);
  if (drawable.length > 0) return { kind: 'images', summary, results: drawable, ...(meta?.input ? { input: meta.input } : {}) };

  const data = objectOr(structured?.data);
  const jobId = text(data?.JobId) ?? jobIdArgument;
  if (STILL_RUNNING.has(String(data?.Status)) && jobId) return { kind: 'job', jobId, message: summary };
  const links = content.flatMap((block) => (block.type === 'resource_link' ? [block.uri] : []));
  return { kind: 'nothing-to-draw', summary, links };
}
