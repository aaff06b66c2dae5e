import type { AppContext } from '../app.js';
import { priceLabel } from '../catalog/describe.js';

/** `imageseg-mcp list`: the tools that run here (all with IMAGESEG_LIST_ALL_TOOLS=1), with prices unless payments are off. */
export function listTools(context: AppContext): string {
  const { config, providers } = context;
  const lines: string[] = [];
  for (const capability of context.catalog.capabilities) {
    const runs = providers.available(capability);
    if (!runs && !config.listAllTools) continue;
    const price = config.payments === 'off' ? '' : priceLabel(capability).padEnd(18);
    lines.push(`${capability.tool.padEnd(30)} ${capability.title.padEnd(34)} ${price}${runs ? providers.servedBy(capability).join(' > ') : 'needs Alibaba credentials'}`.trimEnd());
  }
  return `${lines.join('\n')}\n`;
}
