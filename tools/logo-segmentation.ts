import { defineCapability, DEFAULT_PRICE } from '../src/catalog/capability.js';

/** Logo分割 SegmentLogo (imageseg 2019-12-30). */
export const logoSegmentation = defineCapability({
  serviceId: 'logo-segmentation',
  legacyIds: ['aliyun-imageseg-segment-logo'],
  kind: 'products',
  action: 'SegmentLogo',
  title: 'Logo segmentation',
  summary:
    'Separates the logo in an image from its background and returns Data.ImageURL: a transparent PNG of the logo. Input PNG/JPEG/BMP up to 3 MB, smaller than 1280x1280 pixels.',
  keywords: [
    'SegmentLogo',
    'Logo分割',
    '阿里云分割抠图',
    'image segmentation',
    'logo segmentation',
    'logo extraction',
    'logo cutout',
    'brand',
    'trademark',
    'transparent logo',
    'background removal',
    'transparent background',
  ],
  input: {},
  images: {
    ImageURL: {
      role: 'primary',
      notes: '8-, 16- and 64-bit PNG not supported.',
      formats: ['png', 'jpeg', 'bmp'], // 图像格式：PNG（不支持8位、16位和64位PNG）、JPG、JPEG、BMP
      maxBytes: 3 * 1024 * 1024, // 图像大小：不超过3 MB
      maxSide: 1280, // 图像分辨率：小于1280×1280像素: strictly less (小于) in the reference; documented number kept
    },
  },
  async: 'never',
  price: DEFAULT_PRICE,
  resultShape: 'ImageURL',
});
