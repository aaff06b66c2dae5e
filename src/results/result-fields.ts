import type { ResultShape } from '../catalog/capability.js';

/** Where each shape keeps its result images: a key of Data, or a key of each Elements item. */
const PLACES: Record<Exclude<ResultShape, 'Job'>, { key?: string; elementKey?: string }> = {
  ImageURL: { key: 'ImageURL' },
  ImageUrl: { key: 'ImageUrl' },
  URL: { key: 'URL' },
  Elements: { elementKey: 'ImageURL' },
  // `OriginImageURL` is the input echoed back, not a result.
  ElementsWithOrigin: { elementKey: 'ImageURL' },
};

/** A job's Data is shaped like that of the Action the job ran, whichever it was. */
function placesOf(shape: ResultShape): Array<{ key?: string; elementKey?: string }> {
  return shape === 'Job' ? Object.values(PLACES) : [PLACES[shape]];
}

export interface ResultImageRef {
  /** Where the URL sits in `data`, e.g. `ImageURL` or `Elements[0].ImageURL`. */
  path: string;
  url: string;
}

/** Every result image URL in an Action's Data, where its descriptor's `resultShape` says they are. */
export function findResultImages(data: Record<string, unknown>, shape: ResultShape): ResultImageRef[] {
  const places = placesOf(shape);
  const keys = new Set(places.flatMap((place) => (place.key ? [place.key] : [])));
  const elementKeys = new Set(places.flatMap((place) => (place.elementKey ? [place.elementKey] : [])));
  const refs: ResultImageRef[] = [];
  for (const [key, value] of Object.entries(data)) {
    if (keys.has(key) && typeof value === 'string' && value) refs.push({ path: key, url: value });
    if (key === 'Elements' && Array.isArray(value)) {
      value.forEach((item, index) => {
        if (!item || typeof item !== 'object') return;
        for (const [innerKey, innerValue] of Object.entries(item as Record<string, unknown>)) {
          if (elementKeys.has(innerKey) && typeof innerValue === 'string' && innerValue) refs.push({ path: `${key}[${index}].${innerKey}`, url: innerValue });
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
