import type { Capability, ImageLimits } from '../catalog/capability.js';
import type { LoadedImage } from '../images/load.js';
import type { ResultStore } from '../results/result-store.js';
import type { ProviderResult } from '../results/types.js';

export interface Progress {
  progress: number;
  total?: number;
  message?: string;
}

export interface ProviderCall {
  capability: Capability;
  /** Validated arguments, Alibaba parameter names, payment fields removed. */
  params: Record<string, unknown>;
  /** Image parameters already fetched and checked against the descriptor's limits (local provider reads these). */
  images: Record<string, LoadedImage>;
  results: ResultStore;
  onProgress?: (progress: Progress) => void;
  /** Aborted when the caller went away, cancelled, or the server shuts down: stop work, deliver nothing. */
  signal?: AbortSignal;
  /** Told the JobId of an asynchronous job as soon as it is submitted, before it is followed. */
  onJobSubmitted?: (jobId: string) => Promise<void>;
}

export interface Provider {
  /** One provider's name, or for a fallback chain its members joined by commas. */
  readonly name: string;
  /** True when this provider can honestly serve the capability. */
  supports(capability: Capability): boolean;
  /**
   * Why this provider cannot take this call's images (format, size outside its own limits), or undefined when it
   * can: a fallback chain passes such a call to the next provider without counting it against this one.
   */
  refuses?(call: ProviderCall): string | undefined;
  run(call: ProviderCall): Promise<ProviderResult>;
  /**
   * True when this provider sends an image URL on as it is and never reads its bytes (Alibaba fetches a passthrough
   * URL itself and refuses a broken image without charge): the pre-check then reads the image's header, not its pixels.
   */
  passesThrough?(url: string): boolean;
  /**
   * True when this provider decodes every image itself before anything else and refuses one that does not decode
   * with IMAGE_INVALID (the call then fails uncharged): the pre-check reads the header, and the pixels are decoded once.
   */
  readonly decodesImages?: boolean;
  /** The limits this provider itself has for an image parameter, when they are not the Action's documented ones. */
  imageLimits?(capability: Capability, field: string): ImageLimits | undefined;
}
