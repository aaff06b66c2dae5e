import { constants as fsConstants } from 'node:fs';
import { lstat, open, realpath } from 'node:fs/promises';
import { isInside, resolvePlaces } from '../images/places.js';
import { MIME_TYPES, RESULT_EXTENSIONS } from '../images/media-types.js';
import path from 'node:path';
import { probeImage } from '../images/probe.js';
import { AppError } from '../errors.js';
import type { ProviderResult, ResultImage } from './types.js';
import type { ResultStore } from './result-store.js';
import type { ResultShape } from '../catalog/capability.js';
import { fetchImageBytes, redactUrl } from '../fetch/fetch-url.js';
import type { ImageLoadOptions } from '../images/load.js';
import { transformResult } from '../images/transform.js';
import { findResultImages, replaceAt } from './result-fields.js';
import { wantsTransform } from './output-options.js';
import type { DeliveryMode, OutputOptions } from '../catalog/output-options.js';
import { fittedNote, type FittedImage } from '../images/fit.js';
import { restoreToOriginal } from '../images/restore.js';
import { base64Length, previewWithin } from './preview.js';

/** REST data: URLs; past this a result belongs behind a link. (MCP's cap is IMAGESEG_INLINE_MAX_BYTES.) */
export const MAX_INLINE_BYTES = 2 * 1024 * 1024;
const MAX_RESULT_BYTES = 64 * 1024 * 1024;

/** Which kind of client a call answers: it decides the default delivery (inline over MCP, links over REST and the CLI). */
export type CallerKind = 'mcp' | 'rest' | 'cli';

export interface DeliveryContext {
  transport: CallerKind;
  results: ResultStore;
  fetchOptions: ImageLoadOptions;
  /** Non-empty only over stdio, where writing files for the user makes sense. */
  fileRoots: readonly string[];
  /** The local file the first image input came from, if any (default place for deliver="file"). */
  inputFile?: string;
  serviceId: string;
  /** Where the Action's result images sit in `data` (the descriptor's `resultShape`). */
  resultShape: ResultShape;
  /** The largest inline MCP image, as base64; bigger ones are sent as a preview. */
  inlineMaxBytes: number;
  /** The primary input, when it was brought down to the Action's limits: results are scaled back to it. */
  fitted?: FittedImage;
}

export interface Delivered {
  data: Record<string, unknown>;
  /** Result images whose bytes we hold: adapters may embed these. */
  images: ResultImage[];
  /** Images the adapter should embed (MCP image content). */
  inline: ResultImage[];
  notes: string[];
}

/** Where files may be written: inside a root, never onto or under a protected path (the ledger, stored results). */
type FilePlaces = { fileRoots: readonly string[]; protectedPaths?: readonly string[] };

/** Refuses impossible delivery requests before any money or compute is spent; the write checks again. */
export async function checkDeliveryOptions(options: OutputOptions, context: FilePlaces): Promise<void> {
  if (options.deliver === 'file' && context.fileRoots.length === 0) {
    throw new AppError('INVALID_ARGUMENT', 'deliver="file" is available over stdio only; use "stored" or "inline" over HTTP', { details: { fields: ['deliver'] } });
  }
  if (options.outputPath && options.deliver !== 'file') {
    throw new AppError('INVALID_ARGUMENT', 'outputPath needs deliver="file"', { details: { fields: ['outputPath'] } });
  }
  if (options.outputPath) {
    const file = path.resolve(options.outputPath);
    const target = await writablePath(file, context);
    if ((await exists(file)) || (await exists(target))) throw alreadyExists(file);
  }
}

function outsideRoots(file: string, roots: readonly string[]): AppError {
  return new AppError('INVALID_ARGUMENT', `outputPath ${file} is outside the allowed roots (IMAGESEG_FILE_ROOTS: ${roots.join(', ')}) or its folder does not exist`, { details: { fields: ['outputPath'] } });
}

function alreadyExists(file: string): AppError {
  return new AppError('INVALID_ARGUMENT', `outputPath ${file} already exists (or is a link); results never replace a file: choose a new name`, { details: { fields: ['outputPath'] } });
}

const exists = (file: string) => lstat(file).then(() => true, () => false);

/**
 * Where a result file really goes: its folder's links resolved, inside a root, not onto or under the server's
 * own data (the ledger and its journals, the stored results). The path returned is in the resolved folder, so
 * nothing is resolved again when the file is created.
 */
async function writablePath(file: string, places: FilePlaces): Promise<string> {
  const directory = await realpath(path.dirname(file)).catch(() => undefined);
  if (!directory || !isInside(directory, await resolvePlaces(places.fileRoots))) throw outsideRoots(file, places.fileRoots);
  const target = path.join(directory, path.basename(file));
  if (isInside(target, await resolvePlaces(places.protectedPaths ?? []))) {
    throw new AppError('INVALID_ARGUMENT', `outputPath ${file} is in the server's data directory (ledger, stored results); results are never written there`, { details: { fields: ['outputPath'] } });
  }
  return target;
}

/** The result's media type from its header (only that is needed here; a step that reworks the pixels decodes them). */
async function verifiedMimeType(bytes: Buffer, url: string): Promise<string> {
  const probed = await probeImage(bytes).catch(() => undefined);
  if (!probed?.width || !probed.height) {
    throw new AppError('UPSTREAM_ERROR', `The provider's result at ${url} is not a readable image`, { retryable: true, details: { url } });
  }
  return probed.format ? MIME_TYPES[probed.format] : `image/${probed.type}`;
}

/**
 * Creates the file and writes it, never replacing anything: O_EXCL fails on any existing name (a dangling link
 * included) and O_NOFOLLOW refuses a link. Without an outputPath the first free name wins (`.png`, `-1.png`, ...).
 */
async function writeNewFile(context: DeliveryContext, options: OutputOptions, image: ResultImage, index: number, requestId: string): Promise<string> {
  const extension = RESULT_EXTENSIONS[image.mimeType] ?? 'png';
  const suffix = index === 0 ? '' : `-${index + 1}`;
  let base: string;
  let ext: string;
  if (options.outputPath) {
    const parsed = path.parse(path.resolve(options.outputPath));
    [base, ext] = [path.join(parsed.dir, `${parsed.name}${suffix}`), parsed.ext || `.${extension}`];
  } else if (context.inputFile) {
    const parsed = path.parse(path.resolve(context.inputFile));
    [base, ext] = [path.join(parsed.dir, `${parsed.name}.${context.serviceId}${suffix}`), `.${extension}`];
  } else {
    [base, ext] = [path.resolve(`${context.serviceId}-${requestId.slice(0, 8).toLowerCase()}${suffix}`), `.${extension}`];
  }
  const places = { fileRoots: context.fileRoots, protectedPaths: context.fetchOptions.protectedPaths ?? [] };
  const flags = fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL | fsConstants.O_NOFOLLOW;
  for (let attempt = 0; attempt < 1000; attempt += 1) {
    const wanted = `${base}${attempt === 0 ? '' : `-${attempt}`}${ext}`;
    const file = await writablePath(wanted, places);
    const handle = await open(file, flags, 0o644).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'EEXIST' || error.code === 'ELOOP') return undefined;
      throw new AppError('INVALID_ARGUMENT', `cannot create ${file}: ${error.code ?? error.message}`, { details: { fields: ['outputPath'] }, cause: error });
    });
    if (!handle) {
      if (options.outputPath) throw alreadyExists(wanted);
      continue;
    }
    try {
      await handle.writeFile(image.bytes);
    } finally {
      await handle.close();
    }
    return file;
  }
  throw new AppError('INVALID_ARGUMENT', `no free file name next to ${base}${ext}; pass outputPath`, { details: { fields: ['outputPath'] } });
}

/** One result image on its way out: where it came from and what delivering it may add to the answer. */
interface DeliveryStep {
  ref: string;
  index: number;
  requestId: string;
  /** Already saved by us (ours, fitted back, or transformed): a link to it exists. */
  kept: boolean;
  /** The caller chose the mode (`deliver`), rather than taking the transport's default. */
  explicit: boolean;
  options: OutputOptions;
  context: DeliveryContext;
  inline: ResultImage[];
  notes: string[];
}

/** The one place results are saved (`/results/<id>`, or over stdio this process's MCP resources). */
async function saved(image: ResultImage, context: DeliveryContext): Promise<ResultImage> {
  return { ...image, url: (await context.results.save(image.bytes, image.mimeType)).url };
}

type DeliverMode = (image: ResultImage, step: DeliveryStep) => Promise<ResultImage>;

/** What each delivery mode does with one result image whose bytes we hold. */
const MODES: Record<DeliveryMode, DeliverMode> = {
  url: async (image) => image,
  stored: async (image, step) => (step.kept ? image : saved(image, step.context)),
  file: async (image, step) => ({ ...image, url: await writeNewFile(step.context, step.options, image, step.index, step.requestId) }),
  inline: async (image, step) => {
    const { transport } = step.context;
    if (transport === 'mcp') return inlineForModel(image, step);
    if (transport === 'cli' || image.bytes.length <= MAX_INLINE_BYTES) step.inline.push(image);
    if (transport === 'cli') return image;
    if (image.bytes.length <= MAX_INLINE_BYTES) return { ...image, url: `data:${image.mimeType};base64,${image.bytes.toString('base64')}` };
    // REST, too big for a data: URL: taken as the default it keeps the provider's link; asked for, it gets ours.
    if (!step.explicit) return image;
    step.notes.push(`${step.ref} is ${Math.round(image.bytes.length / 1024)} KB, over the ${MAX_INLINE_BYTES / 1024 / 1024} MB inline cap: delivered as a stored link`);
    return step.kept ? image : saved(image, step.context);
  },
};

/**
 * Step 6 of the pipeline: fetch and check result images when the delivery needs their bytes, fit them back to an
 * input that was scaled down, rework them with sharp if asked, then hand them over as the mode says.
 */
export async function deliverResults(result: ProviderResult, options: OutputOptions, context: DeliveryContext): Promise<Delivered> {
  const mode: DeliveryMode = options.deliver ?? (context.transport === 'mcp' ? 'inline' : 'url');
  const transform = wantsTransform(options);
  const held = new Map((result.images ?? []).map((image) => [image.field, image]));
  const needBytes = mode !== 'url' || transform || context.fitted !== undefined;
  let data = result.data;
  const images: ResultImage[] = [];
  const inline: ResultImage[] = [];
  const notes: string[] = [];

  for (const [index, ref] of findResultImages(result.data, context.resultShape).entries()) {
    let image = held.get(ref.path);
    let kept = image !== undefined;
    if (!image && !needBytes) continue;
    image ??= await fetchResult(ref.path, ref.url, context);
    if (context.fitted) {
      const restored = await restoreToOriginal(image.bytes, context.fitted);
      if (restored) {
        image = await saved({ field: ref.path, url: image.url, ...restored }, context);
        kept = true;
      }
    }
    if (transform) {
      image = await saved({ field: ref.path, url: image.url, ...(await transformResult(image.bytes, options)) }, context);
      kept = true;
    }
    image = await MODES[mode](image, { ref: ref.path, index, requestId: result.requestId, kept, explicit: options.deliver !== undefined, options, context, inline, notes });
    data = replaceAt(data, ref.path, image.url);
    images.push(image);
  }
  if (context.fitted && images.length > 0) notes.push(fittedNote(context.fitted));
  return { data, images, inline, notes };
}

async function fetchResult(field: string, url: string, context: DeliveryContext): Promise<ResultImage> {
  const bytes = await fetchImageBytes(url, field, MAX_RESULT_BYTES, context.fetchOptions).catch((error: unknown) => {
    throw new AppError('UPSTREAM_ERROR', `Could not fetch the provider's result image ${field}: ${(error as Error).message}`, { retryable: true, details: { url: redactUrl(url) }, cause: error });
  });
  return { field, url, mimeType: await verifiedMimeType(bytes, url), bytes };
}

/**
 * MCP: the image itself when it fits IMAGESEG_INLINE_MAX_BYTES, else a preview that says so; and the full result
 * somewhere the client can reach: over stdio a file beside a local input or this process's MCP resource, over HTTP
 * a stored link.
 */
async function inlineForModel(image: ResultImage, step: DeliveryStep): Promise<ResultImage> {
  const { context, notes } = step;
  // Over stdio nobody serves /results: the full result is a file beside a local input, or an MCP resource.
  const overStdio = context.fileRoots.length > 0;
  const small = base64Length(image.bytes.length) <= context.inlineMaxBytes;
  if (small) {
    step.inline.push(image);
  } else {
    const preview = await previewWithin(image, context.inlineMaxBytes);
    step.inline.push(preview.image);
    notes.push(`the image shown is a ${preview.to} preview of the ${preview.from} result ${step.ref}`);
  }
  if (overStdio && !step.explicit && context.inputFile) {
    const file = await writeNewFile(context, step.options, image, step.index, step.requestId).catch((error: unknown) => {
      notes.push(`could not write the full result next to ${context.inputFile} (${(error as Error).message})`);
      return undefined;
    });
    if (file) {
      notes.push(`full result saved as ${file}`);
      return { ...image, url: file };
    }
  }
  // Over stdio the full result is one of this process's MCP resources; over HTTP a big one gets a stored link.
  if (!step.kept && (overStdio || !small)) return saved(image, context);
  return image;
}
