import { defineCapability, DEFAULT_PRICE } from '../src/catalog/capability.js';

/** 服饰分割 SegmentCloth (imageseg 2019-12-30). */
export const clothingSegmentation = defineCapability({
  serviceId: 'clothing-segmentation',
  legacyIds: ['aliyun-imageseg-segment-cloth'],
  kind: 'people',
  action: 'SegmentCloth',
  title: 'Clothing segmentation',
  summary:
    'Pixel-level cutout of the clothes and accessories in a photo; returns Data.Elements, each with an ImageURL of a clothing cutout (transparent PNG). Input PNG/JPEG/BMP up to 3 MB, 50x50 to 3000x3000 pixels.',
  keywords: [
    'SegmentCloth',
    '服饰分割',
    '阿里云分割抠图',
    'image segmentation',
    'clothing segmentation',
    'clothes segmentation',
    'apparel cutout',
    'garment',
    'fashion',
    'outfit',
    'e-commerce',
    'background removal',
    'transparent background',
    'matting',
  ],
  input: {},
  images: {
    ImageURL: {
      role: 'primary',
      formats: ['png', 'jpeg', 'bmp'], // 图像格式：PNG、JPEG、JPG、BMP
      maxBytes: 3 * 1024 * 1024, // 图像大小：不超过3 MB
      minSide: 50, // 图像分辨率：大于50×50像素，且小于3000×3000像素
      maxSide: 3000, // both bounds are exclusive (大于/小于) in the reference; documented numbers kept
    },
  },
  async: 'never',
  price: DEFAULT_PRICE,
  resultShape: 'Elements',
});
