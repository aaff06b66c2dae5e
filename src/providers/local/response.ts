import { AppError } from '../../errors.js';
import type { ResultShape } from '../../catalog/capability.js';

/** An Action's response `Data` for one result image, in the shape its descriptor's `resultShape` names. */
export interface ResponseData {
  data: Record<string, unknown>;
  /** Where the image URL sits in `data`, e.g. `ImageURL` or `Elements[0].ImageURL`. */
  field: string;
}

/** Builds `Data` for one result image; `originUrl` is the input's http(s) URL when it came from one. */
export function responseData(shape: ResultShape, imageUrl: string, originUrl?: string): ResponseData {
  switch (shape) {
    case 'ImageUrl':
      return { data: { ImageUrl: imageUrl }, field: 'ImageUrl' };
    case 'Elements':
      return { data: { Elements: [{ ImageURL: imageUrl }] }, field: 'Elements[0].ImageURL' };
    case 'ElementsWithOrigin':
      return {
        data: { Elements: [{ ImageURL: imageUrl, ...(originUrl ? { OriginImageURL: originUrl } : {}) }] },
        field: 'Elements[0].ImageURL',
      };
    case 'ImageURL':
      return { data: { ImageURL: imageUrl }, field: 'ImageURL' };
    case 'URL':
      return { data: { URL: imageUrl }, field: 'URL' };
    case 'Job':
      throw new AppError('INTERNAL', 'The embedded provider runs no asynchronous jobs');
  }
}
