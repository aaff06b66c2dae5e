import { defineCapability, DEFAULT_PRICE, returnForm } from '../src/catalog/capability.js';

/** 头像分割 SegmentHead (imageseg 2019-12-30). */
export const headSegmentation = defineCapability({
  serviceId: 'head-segmentation',
  legacyIds: ['aliyun-imageseg-segment-head'],
  kind: 'people',
  action: 'SegmentHead',
  title: 'Head segmentation',
  summary:
    "Finds each person's head in a photo (one or several people) and returns Data.Elements: for each head a transparent 4-channel PNG (or a single-channel mask with ReturnForm=mask) plus its X, Y, Width and Height in the original image. Input JPEG/PNG/BMP up to 3 MB, 32x32 to 2000x2000 pixels.",
  keywords: [
    'SegmentHead',
    '头像分割',
    '阿里云分割抠图',
    'image segmentation',
    'head segmentation',
    'head cutout',
    'avatar',
    'portrait',
    'head matting',
    'profile picture',
    'background removal',
    'transparent background',
    'mask',
  ],
  input: {
    ReturnForm: returnForm(['mask'], { plural: true }),
  },
  images: {
    ImageURL: {
      role: 'primary',
      formats: ['jpeg', 'png', 'bmp'], // 图像格式：JPEG、JPG、PNG、BMP
      maxBytes: 3 * 1024 * 1024, // 图像大小：不超过3 MB
      minSide: 32, // 图像分辨率：大于32×32像素，小于2000×2000像素
      maxSide: 2000, // both bounds are exclusive (大于/小于) in the reference; documented numbers kept
    },
  },
  async: 'never',
  price: DEFAULT_PRICE,
  resultShape: 'Elements',
});
