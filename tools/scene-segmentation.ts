import { defineCapability, DEFAULT_PRICE } from '../src/catalog/capability.js';

/** 室外场景分割 SegmentScene (imageseg 2019-12-30). */
export const sceneSegmentation = defineCapability({
  serviceId: 'scene-segmentation',
  legacyIds: ['aliyun-imageseg-segment-scene'],
  kind: 'scenes',
  action: 'SegmentScene',
  title: 'Outdoor scene segmentation',
  summary:
    'Pixel-level segmentation of an outdoor scene into sky, grass, ground, trees, flowers, mountains/rocks, water, snow, buildings, people, animals, vehicles, structures and other; returns Data.ImageURL: the segmentation result image. Input PNG/JPEG/BMP up to 3 MB, 50x50 to 3000x3000 pixels.',
  keywords: [
    'SegmentScene',
    '室外场景分割',
    '阿里云分割抠图',
    'image segmentation',
    'scene segmentation',
    'outdoor scene parsing',
    'semantic segmentation',
    'landscape',
    'sky',
    'grass',
    'trees',
    'water',
    'buildings',
    'label map',
  ],
  input: {},
  images: {
    ImageURL: {
      role: 'primary',
      formats: ['png', 'jpeg', 'bmp'], // 图像格式：PNG、JPEG、JPG、BMP
      maxBytes: 3 * 1024 * 1024, // 图像大小：不超过3 MB
      minSide: 50, // 图像分辨率：大于50×50像素，小于3000×3000像素
      maxSide: 3000, // both bounds are exclusive (大于/小于) in the reference; documented numbers kept
    },
  },
  async: 'never',
  price: DEFAULT_PRICE,
  resultShape: 'ImageURL',
});
