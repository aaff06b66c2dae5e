import type { ToolAnnotations } from '@modelcontextprotocol/sdk/types.js';
import type { Capability } from '../catalog/capability.js';
import { describeCapability } from '../catalog/describe.js';
import type { ProviderRegistry } from '../providers/index.js';
import { RESULT_VIEW_TOOL_META } from './result-view.js';

/** How tools are shown: with or without payment fields and price text, and whether local paths work (stdio). */
export interface Listing {
  payments: boolean;
  overStdio: boolean;
}

export function describeTool(capability: Capability, providers: ProviderRegistry, listing: Listing = { payments: true, overStdio: false }) {
  const annotations: ToolAnnotations = {
    title: capability.title,
    // Not read-only: over stdio a result can be written as a new file (deliver="file", or beside a local input). Said
    // on every transport, since a hint that undersells a tool is safe and one that oversells it is not. Not destructive:
    // a result file never replaces or follows anything (writeNewFile in src/results/deliver.ts).
    readOnlyHint: false,
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
        // Every image tool's answer is drawn by the one MCP App view; hosts without Apps ignore this.
        ...RESULT_VIEW_TOOL_META,
      },
    },
  };
}

/** What the server tells every client about itself (MCP `instructions`). */
export function serverInstructions(listing: Listing): string {
  return (
        'Image segmentation tools: background removal, people/face/hair/sky/product/... segmentation and mask refinement. ' +
    `Pass images as http(s) URLs, data: URLs or base64${listing.overStdio ? ', or local file paths' : ''}. ` +
    (listing.payments
      ? 'Paid tools answer an unpaid call with payment instructions; retry with the paymentToken argument (or the X-Payment-Token header over HTTP) or an x402 PaymentPayload in _meta["x402/payment"]. '
      : '') +
    'Asynchronous tools wait for their job and return the image (with progress), or run as tasks; async_job_result picks up a job that outlived the deadline.'
  );
}
