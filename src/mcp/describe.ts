import type { ToolAnnotations } from '@modelcontextprotocol/sdk/types.js';
import type { Capability } from '../catalog/capability.js';
import { describeCapability } from '../catalog/describe.js';
import type { ProviderRegistry } from '../providers/index.js';

/**
 * `writesFiles`: deliver="file" can create files (stdio, where IMAGESEG_FILE_ROOTS are set), so the tool is not
 * read-only; it stays non-destructive because a result never replaces or follows anything (src/images/deliver.ts).
 * Unknown transport counts as writing: a hint that undersells a tool is safe, one that oversells it is not.
 */
export function describeTool(capability: Capability, providers: ProviderRegistry, options: { writesFiles?: boolean } = {}) {
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
      description: describeCapability(capability, providers.available(capability)),
      annotations,
      _meta: {
        serviceId: capability.serviceId,
        legacyIds: capability.legacyIds,
        action: capability.action,
        price: capability.price,
        provider: providers.active,
        available: providers.available(capability),
        ...(capability.localModel ? { localModel: capability.localModel } : {}),
      },
    },
  };
}
