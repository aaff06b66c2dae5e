import type { Capability } from './capability.js';

export function priceLabel(capability: Capability): string {
  const { price } = capability;
  if (!price) return 'free';
  const calls = price.maxCallsPerPayment === 1 ? 'per call' : `for ${price.maxCallsPerPayment} calls`;
  return `${price.currency} ${price.amount} ${calls}`;
}

/** The long description shared by tools/list, the catalog and the service page. */
export function describeCapability(capability: Capability, runsHere: boolean): string {
  const lines = [capability.summary];
  lines.push(`Price: ${priceLabel(capability)}.`);
  if (capability.async === 'always') lines.push('Asynchronous on Alibaba: the call waits for the job (with progress) or runs as an MCP task.');
  if (capability.async === 'optional') lines.push('Set Async=true for large images: the call then waits for the Alibaba job (with progress) or runs as an MCP task.');
  lines.push(runsHere ? 'Available on this server.' : 'Not available on this server until Alibaba Cloud credentials are set.');
  if (capability.localModel) lines.push(`Without Alibaba credentials it runs on the embedded "${capability.localModel}" model.`);
  return lines.join(' ');
}
