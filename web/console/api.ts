/** What the console reads from the public routes: the shapes it relies on, nothing more. */

import type { Price } from '../shared/price.js';
export { priceLabel, type Price } from '../shared/price.js';

export type ToolKind = 'people' | 'products' | 'scenes' | 'hd' | 'utility';
export type AsyncMode = 'never' | 'optional' | 'always';

/** One entry of GET /api/catalog/search. */
export interface CatalogEntry {
  serviceId: string;
  tool: string;
  kind: ToolKind;
  title: string;
  summary: string;
  async: AsyncMode;
  price: Price | null;
  available: boolean;
  servedBy: string[];
}

export interface CatalogAnswer {
  query: string;
  count: number;
  results: CatalogEntry[];
}

/** `{ error: { code, message, retryable, details } }`: every error answer but a 402. */
export interface ErrorAnswer {
  error: { code: string; message: string; retryable?: boolean; details?: Record<string, unknown> };
}

/** The x402 PaymentRequired object a 402 carries, as far as the console shows it. */
export interface PaymentRequired {
  x402Version: number;
  error: string;
  accepts: Array<{ scheme?: string; network?: string; asset?: string; amount?: string; maxAmountRequired?: string; payTo?: string; extra?: { name?: string } }>;
  extensions?: { serviceId?: string; price?: Price; payments?: { endpoint?: string } };
  message?: string;
}

/** A tool's answer: the seeds' shape. */
export interface ToolAnswer {
  code: string;
  content: string;
  data: Record<string, unknown> & { Action: string; Provider?: string };
  message: string;
  requestId: string;
  payment?: string;
}

/** The data the service page carries for its script (src/http/service-page.ts). */
export interface ServicePageData {
  serviceId: string;
  tool: string;
  title: string;
  async: AsyncMode;
  price: Price | null;
  payments: 'required' | 'off';
  available: boolean;
  servedBy: string[];
  inputSchema: JsonSchema;
  images: Record<string, ImageField>;
}

export interface ImageField {
  role: 'primary' | 'mask' | 'replacement';
  purpose?: string;
  formats: readonly string[];
  maxBytes: number;
  minSide?: number;
  maxSide?: number;
  maxAspectRatio?: number;
}

/** The part of JSON Schema the input schemas use (zod's output for the descriptors). */
export interface JsonSchema {
  type?: string;
  description?: string;
  enum?: Array<string | number>;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  default?: unknown;
  properties?: Record<string, JsonSchema>;
  required?: string[];
}

export const PROVIDER_NAMES: Readonly<Record<string, string>> = { local: 'embedded model', alibaba: 'Alibaba Cloud', ailabtools: 'AILabTools', aidge: 'Aidge' };

export const servedByLabel = (servedBy: readonly string[]) =>
  servedBy.length > 0 ? `Runs here on ${servedBy.map((name) => PROVIDER_NAMES[name] ?? name).join(', then ')}` : 'Not available on this server';

/** The page's data block (`<script type="application/json">`), parsed. */
export function pageData<Data>(id: string): Data | undefined {
  const block = document.getElementById(id);
  return block?.textContent ? (JSON.parse(block.textContent) as Data) : undefined;
}

/** GET a JSON route of this server; throws the answer's message on an error. */
export async function getJson<Answer>(path: string, headers: Record<string, string> = {}): Promise<Answer> {
  const response = await fetch(path, { headers: { accept: 'application/json', ...headers }, credentials: 'same-origin', cache: 'no-store' });
  const body = (await response.json().catch(() => undefined)) as unknown;
  if (!response.ok) throw new RouteError(response.status, errorMessage(body, response.status));
  return body as Answer;
}

export class RouteError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export function errorMessage(body: unknown, status: number): string {
  const error = (body as Partial<ErrorAnswer> | undefined)?.error;
  return error && typeof error === 'object' && typeof error.message === 'string' ? error.message : `The server answered ${status}`;
}
