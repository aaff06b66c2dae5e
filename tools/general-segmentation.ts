import { defineCapability, DEFAULT_PRICE, returnForm } from '../src/catalog/capability.js';

/** 通用分割 SegmentCommonImage (imageseg 2019-12-30). */
export const generalSegmentation = defineCapability({
  serviceId: 'general-segmentation',
  legacyIds: ['aliyun-imageseg-segment-common-image'],
  kind: 'scenes',
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
    ReturnForm: returnForm(['mask', 'whiteBK']),
  },
  images: {
    ImageURL: {
      role: 'primary',
      notes: '8-, 16- and 64-bit PNG not supported.',
      formats: ['jpeg', 'png', 'bmp', 'webp'], // 图像格式：JPEG、JPG、PNG（不支持8位、16位、64位PNG）、BMP、WEBP
      maxBytes: 3 * 1024 * 1024, // 图像大小：不超过3 MB
      minSide: 32, // 图像分辨率：大于32×32像素，小于2000×2000像素
      maxSide: 2000, // both bounds are exclusive (大于/小于) in the reference; documented numbers kept
    },
  },
  async: 'never',
  price: DEFAULT_PRICE,
  resultShape: 'ImageURL',
  localModel: 'salient-object',
  cutout: { image: 'ImageURL', returnForm: 'ReturnForm' },
});
