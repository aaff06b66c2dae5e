import type { ToolAnnotations } from '@modelcontextprotocol/sdk/types.js';
import type { Capability } from '../catalog/capability.js';
import { describeCapability } from '../catalog/describe.js';
import type { ProviderRegistry } from '../providers/index.js';

export function describeTool(capability: Capability, providers: ProviderRegistry) {
  const annotations: ToolAnnotations = {
    title: capability.title,
    readOnlyHint: true,
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
