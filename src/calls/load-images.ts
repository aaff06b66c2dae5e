import { imageFieldOf, type Capability } from '../catalog/capability.js';
import { fitToLimits, sourceLimits, type FittedImage } from '../images/fit.js';
import { loadImage, type ImageLoadOptions, type LoadedImage } from '../images/load.js';
import type { Provider } from '../providers/provider.js';

/**
 * Loads every image input under the limits we can bring down to, then fits each one to what the provider takes
 * (the Action's limits for Alibaba, the model's for the embedded provider). The primary one, when fitted, is remembered so
 * its result is scaled back to the caller's size.
 */
export async function loadImages(capability: Capability, params: Record<string, unknown>, provider: Provider, options: ImageLoadOptions & { sourceMaxBytes?: number }) {
  const loaded: Record<string, LoadedImage> = {};
  const fittings: FittedImage[] = [];
  const entries = Object.entries(capability.images).filter(([field]) => typeof params[field] === 'string');
  await Promise.all(
    entries.map(async ([field, documented]) => {
      const limits = provider.imageLimits?.(capability, field) ?? documented!;
      const image = await loadImage(field, params[field] as string, sourceLimits(limits, options.sourceMaxBytes ?? 0), capability.action, {
        ...options,
        passesThrough: (url) => provider.passesThrough?.(url) ?? false,
        decodedByProvider: provider.decodesImages === true,
      });
      const fitted = await fitToLimits(field, image, limits, capability.action);
      if (fitted) fittings.push(fitted);
      loaded[field] = fitted ? { ...fitted.sent, ...pick(image) } : image;
    }),
  );
  const primary = imageFieldOf(capability, 'primary');
  return { loaded, fitted: fittings.find((fitted) => fitted.field === primary) };
}

/** A fitted copy keeps the file it came from (results go beside it) but not its URL: the provider must get the copy. */
function pick(image: LoadedImage): Partial<LoadedImage> {
  return image.sourcePath ? { sourcePath: image.sourcePath } : {};
}
