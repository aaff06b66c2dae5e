import { z } from 'zod';

/** How an Action relates to Alibaba's asynchronous job API (GetAsyncJobResult). */
export type AsyncMode = 'never' | 'optional' | 'always';

/** Image formats named by the reference; detected from magic bytes, never from the extension. */
export type ImageFormat = 'jpeg' | 'png' | 'bmp' | 'webp' | 'gif' | 'tiff';

/** Limits the reference gives for one image parameter; checked before any money is spent. */
export interface ImageLimits {
  formats: readonly ImageFormat[];
  maxBytes: number;
  /** Smallest allowed width and height, in pixels. */
  minSide?: number;
  /** Largest allowed width and height, in pixels. */
  maxSide?: number;
  /** Largest allowed long side / short side. */
  maxAspectRatio?: number;
}

export interface Price {
  /** USD as a decimal string, e.g. "0.20". */
  amount: string;
  currency: 'USD';
  billing: 'per_call';
  maxCallsPerPayment: number;
}

/**
 * Where an Action's result image sits in its response `Data`, per the reference: `{ ImageURL }` (most),
 * `{ ImageUrl }`, `{ Elements: [{ ImageURL }] }`, or the same with the input echoed as `OriginImageURL`.
 */
export type ResultShape = 'ImageURL' | 'ImageUrl' | 'Elements' | 'ElementsWithOrigin';

/** Which embedded model can serve a capability when no Alibaba credentials are set. */
export type LocalModel = 'salient-object' | 'person' | 'mask-refinement';

export interface Capability<Shape extends z.ZodRawShape = z.ZodRawShape> {
  /** Public id, kebab-case: `product-background-removal`. */
  serviceId: string;
  /** Older ids still routed: `aliyun-imageseg-segment-commodity`. */
  legacyIds: readonly string[];
  /** MCP tool name: the serviceId with `-` replaced by `_`. */
  tool: string;
  /** Alibaba imageseg 2019-12-30 Action name. */
  action: string;
  title: string;
  /** One or two sentences an agent reads to decide whether to call the tool. */
  summary: string;
  keywords: readonly string[];
  /** Input parameters, named exactly as the Alibaba RPC API spells them. */
  input: Shape;
  /** Parameters that carry an image, with the reference's limits for each. */
  images: Readonly<Partial<Record<keyof Shape & string, ImageLimits>>>;
  async: AsyncMode;
  /** null for free capabilities (GetAsyncJobResult). */
  price: Price | null;
  /** The embedded model that can serve this capability, if any. */
  localModel?: LocalModel;
  /** With `localModel`: where the embedded provider puts its result image in `Data` (default `ImageURL`). */
  resultShape?: ResultShape;
  /**
   * A whole-subject cutout of one image, returned as `Data.ImageURL` in the form its ReturnForm-like parameter
   * picks (transparent, `mask` or `whiteBK`): what peer background-removal APIs (ailabtools, Aidge) can serve.
   */
  cutout?: CutoutRole;
  /** For the Action that fetches an asynchronous job's result: the parameter naming the job, and what its statuses mean. */
  jobResult?: JobResultRole;
}

export interface CutoutRole {
  /** The image parameter cut out. */
  image: string;
  /** The parameter choosing the form: unset = transparent PNG, `mask`, `whiteBK`. */
  returnForm: string;
}

export interface JobResultRole {
  jobIdParameter: string;
  statusField: string;
  succeeded: readonly string[];
  failed: readonly string[];
}

/** Identity function: keeps descriptors plain data while TypeScript infers the input shape. */
export function defineCapability<Shape extends z.ZodRawShape>(capability: Capability<Shape>): Capability<Shape> {
  return capability;
}

export const DEFAULT_PRICE: Price = { amount: '0.20', currency: 'USD', billing: 'per_call', maxCallsPerPayment: 1 };

const IMAGE_SOURCES = 'Image: an http(s) URL, a data: URL or base64.';

/** An image parameter: what every image input accepts, then the Action's own requirements in words. */
export function imageParameter(requirements: string) {
  return z.string().min(1).describe(`${IMAGE_SOURCES} ${requirements}`);
}
