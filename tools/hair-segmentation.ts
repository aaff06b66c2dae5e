import { defineCapability, DEFAULT_PRICE } from '../src/catalog/capability.js';

/** 头发分割 SegmentHair (imageseg 2019-12-30). */
export const hairSegmentation = defineCapability({
  serviceId: 'hair-segmentation',
  legacyIds: ['aliyun-imageseg-segment-hair'],
  kind: 'people',
  action: 'SegmentHair',
  title: 'Hair segmentation',
  summary:
    'Segments the hair of each person in a photo (one or several people, hair-strand edges, no neck or ears) and returns Data.Elements: for each person a rectangular transparent PNG where only the hair is visible, with its X, Y, Width and Height in the original image. Useful for wig try-on and hairstyle previews. Input JPEG/PNG/BMP up to 3 MB, 32x32 to 2000x2000 pixels.',
  keywords: [
    'SegmentHair',
    '头发分割',
    '阿里云分割抠图',
    'image segmentation',
    'hair segmentation',
    'hair cutout',
    'hair matting',
    'hair mask',
    'wig try-on',
    'hairstyle',
    'transparent background',
  ],
  input: {},
  images: {
    ImageURL: {
      role: 'primary',
      formats: ['jpeg', 'png', 'bmp'], // 图像格式：JPEG、JPG、PNG、BMP
      maxBytes: 3 * 1024 * 1024, // 图像大小：不超过3M
      minSide: 32, // 图像分辨率：大于32×32像素，小于2000×2000像素
      maxSide: 2000, // both bounds are exclusive (大于/小于) in the reference; documented numbers kept
    },
  },
  async: 'never',
  price: DEFAULT_PRICE,
  resultShape: 'Elements',
});
