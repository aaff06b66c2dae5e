import { defineCapability, DEFAULT_PRICE } from '../src/catalog/capability.js';

/** 天空分割 SegmentSky (imageseg 2019-12-30). */
export const skySegmentation = defineCapability({
  serviceId: 'sky-segmentation',
  legacyIds: ['aliyun-imageseg-segment-sky'],
  kind: 'scenes',
  action: 'SegmentSky',
  title: 'Sky segmentation',
  summary:
    'Separates the sky region of a photo from the rest and returns Data.ImageURL: the segmented sky region image. Input JPEG/PNG/BMP up to 3 MB, 50x50 to 3000x3000 pixels (use hd_sky_segmentation for larger images).',
  keywords: [
    'SegmentSky',
    '天空分割',
    '阿里云分割抠图',
    'image segmentation',
    'sky segmentation',
    'sky mask',
    'sky detection',
    'outdoor photo',
    'landscape',
    'sky cutout',
  ],
  input: {},
  images: {
    ImageURL: {
      role: 'primary',
      formats: ['jpeg', 'bmp', 'png'], // 图像格式：JPG、JPEG 、BMP、PNG
      maxBytes: 3 * 1024 * 1024, // 图像大小： 不超过3 MB
      minSide: 50, // 图像分辨率：大于50×50像素，小于3000×3000像素
      maxSide: 3000, // both bounds are exclusive (大于/小于) in the reference; documented numbers kept
    },
  },
  async: 'never',
  price: DEFAULT_PRICE,
  resultShape: 'ImageURL',
});
