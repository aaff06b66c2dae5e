import type { ToolAnnotations } from '@modelcontextprotocol/sdk/types.js';
import type { Capability } from '../catalog/capability.js';
import { describeCapability } from '../catalog/describe.js';
import type { ProviderRegistry } from '../providers/index.js';

/**
 * `writesFiles`: deliver="file" can create files (stdio, where IMAGESEG_FILE_ROOTS are set), so the tool is not
 * read-only; it stays non-destructive because a result never replaces or follows anything (src/images/deliver.ts).
 * Unknown transport counts as writing: a hint that undersells a tool is safe, one that oversells it is not.
 */
/** How tools are shown: with or without payment fields and price text, and whether local paths work (stdio). */
export interface Listing {
  payments: boolean;
  overStdio: boolean;
}

export function describeTool(capability: Capability, providers: ProviderRegistry, listing: Listing = { payments: true, overStdio: false }, options: { writesFiles?: boolean } = {}) {
  const annotations: ToolAnnotations = {
    title: capability.title,
    readOnlyHint: options.writesFiles === false,
    destructiveHint: false,
    idempotentHint: capability.price === null,
    openWorldHint: true,
  };
  return {
    name: capability.tool,
    config: {
      title: capability.title,
      description: describeCapability(capability, providers.available(capability), { payments: listing.payments, provider: providers.active }),
      annotations,
      _meta: {
        serviceId: capability.serviceId,
        legacyIds: capability.legacyIds,
        action: capability.action,
        ...(listing.payments ? { price: capability.price } : {}),
        provider: providers.active,
        available: providers.available(capability),
        ...(capability.localModel ? { localModel: capability.localModel } : {}),
      },
    },
  };
}
