import { defineCapability, DEFAULT_PRICE } from '../src/catalog/capability.js';

/** 天空高清分割 SegmentHDSky (imageseg 2019-12-30). */
export const hdSkySegmentation = defineCapability({
  serviceId: 'hd-sky-segmentation',
  legacyIds: ['aliyun-imageseg-segment-hd-sky'],
  kind: 'hd',
  action: 'SegmentHDSky',
  title: 'HD sky segmentation',
  summary:
    'Pixel-level sky segmentation for high-resolution photos (up to 9.5 MB and 5000x5000 pixels) with finer detail than sky_segmentation; returns Data.ImageURL: the segmented image. Input PNG/JPEG, larger than 50x50 pixels.',
  keywords: [
    'SegmentHDSky',
    '天空高清分割',
    '阿里云分割抠图',
    'image segmentation',
    'HD sky segmentation',
    'high resolution',
    'sky mask',
    'sky replacement',
    'landscape',
    'outdoor photo',
    'photo editing',
  ],
  input: {},
  images: {
    ImageURL: {
      role: 'primary',
      purpose: 'Image whose sky is segmented',
      formats: ['png', 'jpeg'], // 图像格式：PNG、JPEG、JPG
      maxBytes: 9.5 * 1024 * 1024, // 图像大小：不超过9.5M
      minSide: 50, // 图像分辨率：大于50×50像素，小于5000×5000像素
      maxSide: 5000, // both bounds are exclusive (大于/小于) in the reference; documented numbers kept
    },
  },
  async: 'never',
  price: DEFAULT_PRICE,
  resultShape: 'ImageURL',
});
