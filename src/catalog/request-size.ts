import type { Capability } from './capability.js';

const KIB = 1024;
const MIB = 1024 * KIB;

/** A request that carries no image (a payment, a job id, an operator command) is small. */
export const SMALL_REQUEST_BYTES = 64 * KIB;

/** Room beside the images: other parameters, data: URL prefixes, the JSON-RPC envelope, escaped slashes. */
const MARGIN_BYTES = 4 * MIB;

/** The most bytes one request for this capability may need: all its images at their limits, as base64. */
export function requestBytesFor(capability: Capability): number {
  const imageBytes = Object.values(capability.images).reduce((total, limits) => total + (limits?.maxBytes ?? 0), 0);
  if (imageBytes === 0) return SMALL_REQUEST_BYTES;
  return Math.ceil((imageBytes * 4) / 3) + MARGIN_BYTES;
}

/** The most any one request may need: what a transport that cannot tell the tool before parsing must accept. */
export function largestRequestBytes(capabilities: readonly Capability[]): number {
  return Math.max(SMALL_REQUEST_BYTES, ...capabilities.map(requestBytesFor));
}

/** A batch of `items` calls: each item may need what one call does. */
export function batchRequestBytesFor(capability: Capability, items: number): number {
  return requestBytesFor(capability) * items;
}
