import { defineCapability, DEFAULT_PRICE, returnForm } from '../src/catalog/capability.js';

/** 食品分割 SegmentFood (imageseg 2019-12-30). */
export const foodSegmentation = defineCapability({
  serviceId: 'food-segmentation',
  legacyIds: ['aliyun-imageseg-segment-food'],
  kind: 'products',
  action: 'SegmentFood',
  title: 'Food segmentation',
  summary:
    'Pixel-level cutout of food (Chinese and Western dishes, bread, cakes...) for menus and ads; returns Data.ImageURL: a transparent 4-channel PNG, or a single-channel mask or white-background image depending on ReturnForm. Input PNG/JPEG/BMP up to 4 MB, 40x40 to 1999x1999 pixels.',
  keywords: [
    'SegmentFood',
    '食品分割',
    '阿里云分割抠图',
    'image segmentation',
    'food segmentation',
    'dish cutout',
    'menu',
    'restaurant',
    'food photography',
    'background removal',
    'transparent background',
    'mask',
    'matting',
  ],
  input: {
    ReturnForm: returnForm(['mask', 'whiteBK']),
  },
  images: {
    ImageURL: {
      role: 'primary',
      formats: ['png', 'jpeg', 'bmp'], // 图像格式：PNG、JPEG、JPG、BMP
      maxBytes: 4 * 1024 * 1024, // 图像大小：不超过4 MB
      minSide: 40, // 图像分辨率：大于40×40像素，小于1999×1999像素
      maxSide: 1999, // both bounds are exclusive (大于/小于) in the reference; documented numbers kept
    },
  },
  async: 'never',
  price: DEFAULT_PRICE,
  resultShape: 'ImageURL',
});
