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
 * Where an Action's result images sit in its response `Data`, per the reference: `{ ImageURL }` (most),
 * `{ ImageUrl }`, `{ URL }`, `{ Elements: [{ ImageURL }] }`, or the same with the input echoed as `OriginImageURL`;
 * `Job`: a job result's Data, shaped like the Data of whichever Action ran as the job.
 */
export type ResultShape = 'ImageURL' | 'ImageUrl' | 'URL' | 'Elements' | 'ElementsWithOrigin' | 'Job';

/**
 * What an image parameter is to its Action: `primary` (the image the result is made from), `mask` (a rough mask
 * of the primary image, RefineMask) or `replacement` (the image whose sky goes into the primary one, ChangeSky).
 */
export type ImageRole = 'primary' | 'mask' | 'replacement';

/** One image parameter: its role, the reference's limits, and what those limits leave unsaid. */
export interface ImageParameter extends ImageLimits {
  role: ImageRole;
  /** What the image is, for Actions taking several: `Rough mask image matching ImageURL` (default `Image`). */
  purpose?: string;
  /** Requirements the limits cannot express, as sentences: `Transparent PNG accepted.` */
  notes?: string;
}

/** Which embedded model can serve a capability when no Alibaba credentials are set. */
export type LocalModel = 'salient-object' | 'person' | 'mask-refinement';

/** What a tool works on, for browsing the catalog: its filter in the console, its tag in OpenAPI. */
export const TOOL_KINDS = ['people', 'products', 'scenes', 'hd', 'utility'] as const;
export type ToolKind = (typeof TOOL_KINDS)[number];

/** A descriptor as written in tools/: plain data; `defineCapability` adds what follows from it. */
export interface CapabilityDescriptor<Shape extends z.ZodRawShape = z.ZodRawShape, ImageField extends string = string> {
  /** Public id, kebab-case: `product-background-removal`; the MCP tool name follows from it. */
  serviceId: string;
  /** Older ids still routed: `aliyun-imageseg-segment-commodity`. */
  legacyIds: readonly string[];
  kind: ToolKind;
  /** Alibaba imageseg 2019-12-30 Action name. */
  action: string;
  title: string;
  /** One or two sentences an agent reads to decide whether to call the tool. */
  summary: string;
  keywords: readonly string[];
  /** Input parameters other than images, named exactly as the Alibaba RPC API spells them. */
  input: Shape;
  /** Parameters that carry an image (named as Alibaba spells them), each with its role and the reference's limits. */
  images: Readonly<Record<ImageField, ImageParameter>>;
  async: AsyncMode;
  /** null for free capabilities (GetAsyncJobResult). */
  price: Price | null;
  /** The embedded model that can serve this capability, if any. */
  localModel?: LocalModel;
  /** Where the result images sit in `Data`; the embedded provider answers in the same shape. */
  resultShape: ResultShape;
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

/** A capability as the catalog serves it: the descriptor, its tool name, and its image parameters in `input`. */
export interface Capability<Shape extends z.ZodRawShape = z.ZodRawShape> extends Omit<CapabilityDescriptor<Shape>, 'images'> {
  /** MCP tool name: the serviceId with `-` replaced by `_`. */
  tool: string;
  /** Every input parameter, image parameters first (each described from its limits). */
  input: Shape;
  images: Readonly<Partial<Record<string, ImageParameter>>>;
}

/**
 * Keeps descriptors plain data while TypeScript checks them: derives the tool name from the serviceId and puts each
 * image parameter, described from its role's purpose and its limits, before the other parameters.
 */
export function defineCapability<Shape extends z.ZodRawShape, ImageField extends string>(
  descriptor: CapabilityDescriptor<Shape, ImageField>,
): Capability<Shape & Record<ImageField, z.ZodString>> {
  const images = Object.fromEntries(Object.entries<ImageParameter>(descriptor.images).map(([field, image]) => [field, imageSchemaOf(image)]));
  return {
    ...descriptor,
    tool: descriptor.serviceId.replaceAll('-', '_'),
    input: { ...images, ...descriptor.input },
  };
}

export const DEFAULT_PRICE: Price = { amount: '0.20', currency: 'USD', billing: 'per_call', maxCallsPerPayment: 1 };

const FORMAT_NAMES: Record<ImageFormat, string> = { jpeg: 'JPEG/JPG', png: 'PNG', bmp: 'BMP', webp: 'WEBP', gif: 'GIF', tiff: 'TIFF' };

const listOf = (items: readonly string[]) => (items.length > 1 ? `${items.slice(0, -1).join(', ')} or ${items.at(-1)}` : (items[0] ?? ''));

const megabytes = (bytes: number) => `${Number((bytes / (1024 * 1024)).toFixed(2))} MB`;

/**
 * The reference's limits in words: `Formats: PNG or BMP; at most 3 MB; larger than 32x32 and smaller than
 * 2000x2000 pixels.` The reference states the side bounds as exclusive (大于/小于); the numbers are its own.
 */
export function describeImageLimits(limits: ImageLimits): string {
  const parts = [`Formats: ${listOf(limits.formats.map((format) => FORMAT_NAMES[format]))}`, `at most ${megabytes(limits.maxBytes)}`];
  const sides = [
    ...(limits.minSide ? [`larger than ${limits.minSide}x${limits.minSide}`] : []),
    ...(limits.maxSide ? [`smaller than ${limits.maxSide}x${limits.maxSide}`] : []),
  ];
  if (sides.length > 0) parts.push(`${sides.join(' and ')} pixels`);
  if (limits.maxAspectRatio) parts.push(`aspect ratio (width/height) between ${Number((1 / limits.maxAspectRatio).toFixed(3))} and ${limits.maxAspectRatio}`);
  return `${parts.join('; ')}.`;
}

/** An image parameter's schema: what every image input accepts, then the Action's limits and notes in words. */
function imageSchemaOf(image: ImageParameter): z.ZodString {
  const sentences = [`${image.purpose ?? 'Image'}: an http(s) URL, a data: URL or base64.`, describeImageLimits(image), image.notes, 'A URL must not contain Chinese characters.'];
  return z.string().min(1).describe(sentences.filter(Boolean).join(' '));
}

/**
 * The ReturnForm parameter several Actions share: the forms it takes besides the default transparent 4-channel
 * PNG, described in the reference's words.
 */
export function returnForm(forms: readonly [ReturnFormValue, ...ReturnFormValue[]], options: { plural?: boolean } = {}) {
  const subject = options.plural ? 'images' : 'image';
  const words = forms.map((form) => `"${form}": ${RETURN_FORMS[form]}`).join('; ');
  return z
    .enum(forms)
    .optional()
    .describe(`Form of the returned ${subject}. ${words}. If omitted, a 4-channel PNG with a transparent background is returned.`);
}

type ReturnFormValue = 'mask' | 'crop' | 'whiteBK';

const RETURN_FORMS: Record<ReturnFormValue, string> = {
  mask: 'a single-channel (black and white) mask',
  crop: 'a 4-channel PNG cropped to the subject (blank edges cut off)',
  whiteBK: 'the subject on a white background',
};

/** The image parameter with this role, if the capability has one. */
export function imageFieldOf(capability: Pick<Capability, 'images'>, role: ImageRole): string | undefined {
  return Object.entries(capability.images).find(([, image]) => image?.role === role)?.[0];
}
