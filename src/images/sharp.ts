import type Sharp from 'sharp';

let loading: Promise<typeof Sharp> | undefined;

/**
 * sharp's native library takes ~110 ms to load; loading it on the first image instead of at start keeps an
 * MCP client's wait for `initialize` short.
 */
export function loadSharp(): Promise<typeof Sharp> {
  loading ??= import('sharp').then((module) => module.default);
  return loading;
}

/** A pipeline and its input options, for code outside images/ that builds pipelines through loadSharp(). */
export type { Sharp as SharpPipeline, SharpOptions } from 'sharp';
