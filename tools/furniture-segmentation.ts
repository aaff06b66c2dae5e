import { defineCapability, DEFAULT_PRICE } from '../src/catalog/capability.js';

/** 家具分割 SegmentFurniture (imageseg 2019-12-30). */
export const furnitureSegmentation = defineCapability({
  serviceId: 'furniture-segmentation',
  legacyIds: ['aliyun-imageseg-segment-furniture'],
  kind: 'products',
  action: 'SegmentFurniture',
  title: 'Furniture segmentation',
  summary:
    'Pixel-level cutout of the furniture in a photo; returns Data.Elements, each with an ImageURL of a furniture cutout (transparent PNG). Input PNG/JPEG/BMP up to 4 MB, 40x40 to 1999x1999 pixels.',
  keywords: [
    'SegmentFurniture',
    '家具分割',
    '阿里云分割抠图',
    'image segmentation',
    'furniture segmentation',
    'furniture cutout',
    'furniture background removal',
    'interior',
    'home decor',
    'e-commerce',
    'transparent background',
    'matting',
  ],
  input: {},
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
  localModel: 'salient-object',
  resultShape: 'Elements',
});
