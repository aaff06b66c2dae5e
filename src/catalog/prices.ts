import type { Capability } from './capability.js';

/**
 * The catalog's capabilities with the operator's USD prices (IMAGESEG_PRICES) in place of the descriptors' own, so
 * everything built from the catalog (402 answers, x402 amounts, tools/list, OpenAPI, service pages) follows them.
 * A price for an unknown or free service is a mistake worth stopping for.
 */
export function withPrices(capabilities: readonly Capability[], prices: Readonly<Record<string, string>>): readonly Capability[] {
  for (const serviceId of Object.keys(prices)) {
    const capability = capabilities.find((candidate) => candidate.serviceId === serviceId);
    if (!capability) throw new Error(`IMAGESEG_PRICES: no service named "${serviceId}" (see imageseg-mcp list)`);
    if (!capability.price) throw new Error(`IMAGESEG_PRICES: ${serviceId} is free and takes no price`);
  }
  return capabilities.map((capability) => {
    const amount = prices[capability.serviceId];
    return amount && capability.price ? { ...capability, price: { ...capability.price, amount } } : capability;
  });
}
