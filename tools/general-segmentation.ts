import { z } from 'zod';
import { defineCapability, DEFAULT_PRICE, imageParameter } from '../src/catalog/capability.js';

/** 通用分割 SegmentCommonImage (imageseg 2019-12-30). */
export const generalSegmentation = defineCapability({
  serviceId: 'general-segmentation',
  legacyIds: ['aliyun-imageseg-segment-common-image'],
  tool: 'general_segmentation',
  action: 'SegmentCommonImage',
  title: 'General subject segmentation',
  summary:
    'Automatically finds the main subject at the visual centre of an image (person, animal, food, object...) and removes the background; returns Data.ImageURL: a transparent 4-channel PNG, or a single-channel mask or white-background image depending on ReturnForm. Input JPEG/PNG/BMP/WEBP up to 3 MB, 32x32 to 2000x2000 pixels (use hd_general_segmentation for larger images).',
  keywords: [
    'SegmentCommonImage',
    '通用分割',
    '阿里云分割抠图',
    'image segmentation',
    'general segmentation',
    'salient object',
    'subject segmentation',
    'background removal',
    'remove background',
    'cutout',
    'matting',
    'foreground extraction',
    'transparent background',
    'mask',
    'white background',
  ],
  input: {
    ImageURL: imageParameter(
      'Formats: JPEG/JPG, PNG (8-, 16- and 64-bit PNG not supported), BMP or WEBP; at most 3 MB; larger than 32x32 and smaller than 2000x2000 pixels. A URL must not contain Chinese characters.',
    ),
    ReturnForm: z
      .enum(['mask', 'whiteBK'])
      .optional()
      .describe(
        'Form of the returned image. "mask": a single-channel (black and white) mask; "whiteBK": the subject on a white background. If omitted, a 4-channel PNG with a transparent background is returned.',
      ),
  },
  images: {
    ImageURL: {
      formats: ['jpeg', 'png', 'bmp', 'webp'], // 图像格式：JPEG、JPG、PNG（不支持8位、16位、64位PNG）、BMP、WEBP
      maxBytes: 3 * 1024 * 1024, // 图像大小：不超过3 MB
      minSide: 32, // 图像分辨率：大于32×32像素，小于2000×2000像素
      maxSide: 2000, // both bounds are exclusive (大于/小于) in the reference; documented numbers kept
    },
  },
  async: 'never',
  price: DEFAULT_PRICE,
  localModel: 'salient-object',
  cutout: { image: 'ImageURL', returnForm: 'ReturnForm' },
});
