import { realpath } from 'node:fs/promises';
import path from 'node:path';

/** Folders (file roots, protected paths) with their links resolved; one that does not exist stays as written. */
export const resolvePlaces = (places: readonly string[]) => Promise.all(places.map((place) => realpath(place).catch(() => path.resolve(place))));

/** Whether a resolved path is one of the resolved places or under one. */
export function isInside(file: string, places: readonly string[]): boolean {
  return places.some((place) => file === place || file.startsWith(place + path.sep));
}
