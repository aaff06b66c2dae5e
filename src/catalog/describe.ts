import type { Capability } from './capability.js';

export function priceLabel(capability: Capability): string {
  const { price } = capability;
  if (!price) return 'free';
  const calls = price.maxCallsPerPayment === 1 ? 'per call' : `for ${price.maxCallsPerPayment} calls`;
  return `${price.currency} ${price.amount} ${calls}`;
}

/**
 * The description shared by tools/list, the catalog and the service page: what the tool does and returns, what it
 * costs (unless payments are off), how asynchronous Actions behave, and where it runs.
 */
export function describeCapability(capability: Capability, runsHere: boolean, options: { payments?: boolean; provider?: string } = {}): string {
  const lines = [capability.summary];
  // A free tool says so in its own summary.
  if (options.payments !== false && capability.price) lines.push(`Price: ${priceLabel(capability)}.`);
  if (Object.keys(capability.images).length > 0) lines.push('A larger image is scaled down to fit and the result scaled back to its size.');
  if (capability.async === 'always') lines.push(ASYNC_WAITS);
  if (capability.async === 'optional') lines.push(`With Async=true (for large images) it runs as an Alibaba job: ${ASYNC_WAITS.charAt(0).toLowerCase()}${ASYNC_WAITS.slice(1)}`);
  if (!runsHere) lines.push('Not available on this server until Alibaba Cloud credentials are set.');
  else if (capability.localModel && options.provider === 'local') lines.push(`Runs here on the embedded "${capability.localModel}" model.`);
  else if (capability.localModel && options.provider === undefined) lines.push(`Without Alibaba credentials it runs on the embedded "${capability.localModel}" model.`);
  return lines.join(' ');
}

const ASYNC_WAITS =
  'The call waits for the job and returns the image (with progress; MCP clients may run it as a task). Only if the job outlives the deadline is the answer JOB_TIMEOUT with details.jobId: then call async_job_result with that JobId.';
