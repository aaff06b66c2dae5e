import type { Request, Response } from 'express';
import type { CallOutcome } from '../call.js';

/** What `Accept` may ask for instead of JSON, and the `format` option that produces it. */
const IMAGE_FORMATS = { 'image/png': 'png', 'image/webp': 'webp', 'image/jpeg': 'jpg' } as const;
type ImageType = keyof typeof IMAGE_FORMATS;

/** The image type the client prefers over JSON, if any; JSON stays the default (and wins a tie). */
export function wantedImageType(request: Request): ImageType | undefined {
  const best = request.accepts(['application/json', ...Object.keys(IMAGE_FORMATS)]);
  return typeof best === 'string' && best in IMAGE_FORMATS ? (best as ImageType) : undefined;
}

/**
 * The arguments that make the pipeline hand over the first result image in that type: converted to the format
 * and fetched (so it is checked before the call is paid). The caller's own choices win.
 */
export function argumentsForImage(args: unknown, type: ImageType): unknown {
  if (!args || typeof args !== 'object' || Array.isArray(args)) return args;
  return { format: IMAGE_FORMATS[type], deliver: 'stored', ...(args as Record<string, unknown>) };
}

/** JSON in a header: one line of ASCII (every other character escaped the JSON way), inline images left out (they are the body). */
export function headerSafeJson(value: unknown): string {
  return JSON.stringify(value, (_key, field: unknown) => (typeof field === 'string' && field.startsWith('data:') ? 'data: (the image is the body)' : field)).replace(/[^\x20-\x7e]/g, (character) => `\\u${character.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * The first result image's bytes as the body, with the JSON answer in `X-Imageseg-Output`; false when there is no
 * such image at hand (an asynchronous job's id, an idempotent replay), and the caller answers JSON instead.
 */
export function sendResultImage(response: Response, outcome: CallOutcome): boolean {
  const image = outcome.images.find((candidate) => candidate.bytes.length > 0);
  if (!image) return false;
  response
    .status(200)
    .type(image.mimeType)
    .set('X-Request-Id', outcome.output.requestId)
    .set('X-Imageseg-Output', headerSafeJson(outcome.output))
    .set('Access-Control-Expose-Headers', 'X-Request-Id, X-Imageseg-Output, PAYMENT-RESPONSE, X-PAYMENT-RESPONSE')
    .send(image.bytes);
  return true;
}
