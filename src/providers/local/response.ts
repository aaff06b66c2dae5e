/**
 * The `Data` object of each Action's response, field names exactly as the imageseg 2019-12-30
 * reference documents them (its XML/JSON examples):
 * - `{ ImageURL }`: SegmentCommodity, SegmentCommonImage, SegmentBody, SegmentHDBody, SegmentAnimal, ...
 * - `{ ImageUrl }`: SegmentHDCommonImage (lower-case "rl", as in its ImageUrl request parameter)
 * - `{ Elements: [{ ImageURL }] }`: SegmentFurniture, RefineMask
 * - `{ Elements: [{ ImageURL, OriginImageURL }] }`: SegmentVehicle (OriginImageURL = the input's URL)
 */
type DataShape = 'ImageURL' | 'ImageUrl' | 'Elements' | 'ElementsWithOrigin';

const SHAPES: Readonly<Record<string, DataShape>> = {
  SegmentHDCommonImage: 'ImageUrl',
  SegmentFurniture: 'Elements',
  RefineMask: 'Elements',
  SegmentVehicle: 'ElementsWithOrigin',
};

export interface ResponseData {
  data: Record<string, unknown>;
  /** Where the image URL sits in `data`, e.g. `ImageURL` or `Elements[0].ImageURL`. */
  field: string;
}

/** Builds `Data` for one result image; `originUrl` is the input's http(s) URL when it came from one. */
export function responseData(action: string, imageUrl: string, originUrl?: string): ResponseData {
  switch (SHAPES[action] ?? 'ImageURL') {
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
  }
}
