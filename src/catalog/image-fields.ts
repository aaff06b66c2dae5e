import type { Capability } from './capability.js';

const PRIMARY_IMAGE_FIELDS = ['ImageURL', 'ImageUrl', 'URL', 'Url'];
export const MASK_FIELD = 'MaskImageURL';

/** The image parameter a result is made from: the documented primary name, else the first that is not a mask. */
export function primaryImageField(capability: Capability): string | undefined {
  const fields = Object.keys(capability.images);
  return PRIMARY_IMAGE_FIELDS.find((name) => fields.includes(name)) ?? fields.find((name) => name !== MASK_FIELD);
}
