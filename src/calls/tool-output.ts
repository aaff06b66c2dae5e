import type { Capability } from '../catalog/capability.js';
import type { ToolOutput } from '../catalog/schemas.js';
import { findResultImages } from '../results/result-fields.js';
import type { ProviderResult } from '../results/types.js';

/** The seeds' answer shape: a summary, the Action's data with who served it, and the provider's request id. */
export function toOutput(capability: Capability, result: ProviderResult, data: Record<string, unknown>, notes: string[], servedBy: string): ToolOutput {
  const imageCount = findResultImages(data, capability.resultShape).length;
  const summary = imageCount > 0 ? `${capability.title}: ${imageCount} result image(s)` : stillProcessing(capability, data) ?? `${capability.title}: done`;
  return {
    code: '200',
    content: [summary, ...notes].join('; '),
    data: { Action: capability.action, ...data, Provider: servedBy },
    message: 'success',
    requestId: result.requestId,
  };
}

/** A job result that is not final yet says so, and what to do, instead of "done". */
function stillProcessing(capability: Capability, data: Record<string, unknown>): string | undefined {
  const role = capability.jobResult;
  if (!role) return undefined;
  const status = String(data[role.statusField] ?? '');
  if (role.succeeded.includes(status) || role.failed.includes(status)) return undefined;
  return `still processing (Status ${status || 'unknown'}): call ${capability.tool} again with the same ${role.jobIdParameter} in a few seconds`;
}
