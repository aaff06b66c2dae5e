import { defineCapability, DEFAULT_PRICE } from '../src/catalog/capability.js';

/** 面部分割 SegmentFace (imageseg 2019-12-30). */
export const faceSegmentation = defineCapability({
  serviceId: 'face-segmentation',
  legacyIds: ['aliyun-imageseg-segment-face'],
  kind: 'people',
  action: 'SegmentFace',
  title: 'Face segmentation',
  summary:
    "Finds each person's face in a photo (one or several people) and returns Data.Elements: for each face a transparent PNG where only the face is visible (no neck, ears or hair), with its X, Y, Width and Height in the original image. Input JPEG/PNG/BMP up to 3 MB, 32x32 to 2000x2000 pixels.",
  keywords: [
    'SegmentFace',
    '面部分割',
    '阿里云分割抠图',
    'image segmentation',
    'face segmentation',
    'face cutout',
    'face matting',
    'face mask',
    'portrait',
    'transparent background',
    'facial region',
  ],
  input: {},
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
