import type { ImageLimits } from '../../catalog/capability.js';
import { describeBytes } from '../../fetch/sizes.js';
import { type LoadedImage } from '../../images/load.js';

/**
 * Why a peer cannot take this image under its own documented limits (which differ from Alibaba's, checked before),
 * or undefined when it can.
 */
export function limitRefusal(provider: string, image: LoadedImage | undefined, limits: ImageLimits): string | undefined {
  if (!image) return `${provider}: no image to send`;
  if (!limits.formats.includes(image.format)) return `${provider} accepts ${limits.formats.join(', ')}, not ${image.format}`;
  if (image.bytes.length > limits.maxBytes) return `${provider} accepts at most ${describeBytes(limits.maxBytes)}, the image is ${describeBytes(image.bytes.length)}`;
  const shortSide = Math.min(image.width, image.height);
  const longSide = Math.max(image.width, image.height);
  if (limits.minSide !== undefined && shortSide < limits.minSide) return `${provider} needs at least ${limits.minSide}x${limits.minSide} pixels, the image is ${image.width}x${image.height}`;
  if (limits.maxSide !== undefined && longSide > limits.maxSide) return `${provider} accepts at most ${limits.maxSide}x${limits.maxSide} pixels, the image is ${image.width}x${image.height}`;
  return undefined;
}
