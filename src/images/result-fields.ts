/** Keys under which Actions return result images (`OriginImageURL` is the input echoed back, not a result). */
const RESULT_IMAGE_KEYS = new Set(['ImageURL', 'ImageUrl', 'URL']);

export interface ResultImageRef {
  /** Where the URL sits in `data`, e.g. `ImageURL` or `Elements[0].ImageURL`. */
  path: string;
  url: string;
}

/** Every result image URL in an Action's Data: top-level fields and fields of array items (Elements). */
export function findResultImages(data: Record<string, unknown>): ResultImageRef[] {
  const refs: ResultImageRef[] = [];
  for (const [key, value] of Object.entries(data)) {
    if (RESULT_IMAGE_KEYS.has(key) && typeof value === 'string' && value) refs.push({ path: key, url: value });
    if (Array.isArray(value)) {
      value.forEach((item, index) => {
        if (!item || typeof item !== 'object') return;
        for (const [innerKey, innerValue] of Object.entries(item as Record<string, unknown>)) {
          if (RESULT_IMAGE_KEYS.has(innerKey) && typeof innerValue === 'string' && innerValue) refs.push({ path: `${key}[${index}].${innerKey}`, url: innerValue });
        }
      });
    }
  }
  return refs;
}

/** A copy of `data` with the value at `path` (as findResultImages writes it) replaced. */
export function replaceAt(data: Record<string, unknown>, path: string, value: string): Record<string, unknown> {
  const match = /^(\w+)\[(\d+)\]\.(\w+)$/.exec(path);
  if (!match) return { ...data, [path]: value };
  const [, key, index, innerKey] = match;
  const items = [...(data[key] as Array<Record<string, unknown>>)];
  items[Number(index)] = { ...items[Number(index)], [innerKey]: value };
  return { ...data, [key]: items };
}
