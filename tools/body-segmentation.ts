import { z } from 'zod';
import { defineCapability, DEFAULT_PRICE, returnForm } from '../src/catalog/capability.js';

/** 人体分割 SegmentBody (imageseg 2019-12-30). */
export const bodySegmentation = defineCapability({
  serviceId: 'body-segmentation',
  legacyIds: ['aliyun-imageseg-segment-body'],
  kind: 'people',
  action: 'SegmentBody',
  title: 'Body segmentation',
  summary:
    'Cuts the people (one or several, any pose, complex backgrounds, hair-level edges) out of a photo and returns Data.ImageURL: a transparent 4-channel PNG of the people, or a single-channel mask, a cropped PNG or a white-background image depending on ReturnForm. Input JPEG/PNG/BMP/WEBP up to 3 MB, smaller than 1280x1280 pixels (Async=true runs it as a job for larger work; the call still waits and returns the image).',
  keywords: [
    'SegmentBody',
    '人体分割',
    '阿里云分割抠图',
    'image segmentation',
    'human segmentation',
    'body segmentation',
    'portrait segmentation',
    'person cutout',
    'background removal',
    'remove background',
    'portrait matting',
    'ID photo',
    'transparent background',
    'foreground mask',
    'people',
  ],
  input: {
    Async: z
      .boolean()
      .optional()
      .describe(
        'true: run as an Alibaba job; this call waits for it and returns the result all the same (with progress). Default false.',
      ),
    ReturnForm: returnForm(['mask', 'crop', 'whiteBK']),
  },
  images: {
    ImageURL: {
      role: 'primary',
      notes: '8-, 16- and 64-bit PNG not supported.',
      formats: ['jpeg', 'png', 'bmp', 'webp'], // 图像格式：JPEG、JPG、PNG（不支持8位、16位、64位PNG）、BMP、WEBP
      maxBytes: 3 * 1024 * 1024, // 图像大小：不超过3 MB
      maxSide: 1280, // 图像分辨率：小于1280×1280像素: strictly less (小于) in the reference; documented number kept
    },
  },
  async: 'optional',
  price: DEFAULT_PRICE,
  resultShape: 'ImageURL',
  localModel: 'person',
});
