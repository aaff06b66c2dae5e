import { defineCapability, DEFAULT_PRICE } from '../src/catalog/capability.js';

/** 皮肤分割 SegmentSkin (imageseg 2019-12-30). */
export const skinSegmentation = defineCapability({
  serviceId: 'skin-segmentation',
  legacyIds: ['aliyun-imageseg-segment-skin'],
  kind: 'people',
  action: 'SegmentSkin',
  title: 'Skin segmentation',
  summary:
    'Segments the skin areas of the people in a photo and returns Data.URL: the URL of the skin mask image. Input PNG/JPEG/BMP up to 3 MB, 32x32 to 2000x2000 pixels. Note the image parameter is named URL.',
  keywords: [
    'SegmentSkin',
    '皮肤分割',
    '阿里云分割抠图',
    'image segmentation',
    'skin segmentation',
    'skin mask',
    'skin detection',
    'skin retouching',
    'beauty',
    'portrait',
    'mask',
  ],
  input: {},
  images: {
    URL: {
      role: 'primary',
      notes: '8-, 16- and 64-bit PNG not supported.',
      formats: ['png', 'jpeg', 'bmp'], // 图像格式：PNG（不支持8位、16位、64位PNG）、JPEG、JPG、BMP
      maxBytes: 3 * 1024 * 1024, // 图像大小：不超过3 MB
      minSide: 32, // 图像分辨率：大于32×32像素，小于2000×2000像素
      maxSide: 2000, // both bounds are exclusive (大于/小于) in the reference; documented numbers kept
    },
  },
  async: 'never',
  price: DEFAULT_PRICE,
  resultShape: 'URL',
});
