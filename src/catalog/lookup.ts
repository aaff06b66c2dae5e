import type { Capability } from './capability.js';

export interface Catalog {
  readonly capabilities: readonly Capability[];
  /** Finds a capability by serviceId, legacy id, tool name or Action, case-insensitively. */
  find(id: string): Capability | undefined;
}

export function createCatalog(capabilities: readonly Capability[]): Catalog {
  const index = new Map<string, Capability>();
  for (const capability of capabilities) {
    for (const key of [capability.serviceId, capability.tool, capability.action, ...capability.legacyIds]) {
      const normalized = key.toLowerCase();
      const existing = index.get(normalized);
      if (existing && existing !== capability) {
        throw new Error(`Catalog id clash: "${key}" names both ${existing.serviceId} and ${capability.serviceId}`);
      }
      index.set(normalized, capability);
    }
  }
  return {
    capabilities,
    find: (id) => index.get(id.trim().toLowerCase()),
  };
}
