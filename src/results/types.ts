import type { ProviderName } from '../config.js';

/** An image the provider produced, so adapters can inline it without fetching it again. */
export interface ResultImage {
  field: string;
  url: string;
  mimeType: string;
  bytes: Buffer;
}

export interface ProviderResult {
  requestId: string;
  /** Alibaba's `Data` object, PascalCase field names as the reference documents them. */
  data: Record<string, unknown>;
  images?: ResultImage[];
  /** Who served the call (a fallback chain names the member that answered); `data.Provider` in the answer. */
  provider?: ProviderName;
}
