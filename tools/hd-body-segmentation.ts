import { defineCapability, DEFAULT_PRICE } from '../src/catalog/capability.js';

/** 高清人体分割 SegmentHDBody (imageseg 2019-12-30). */
export const hdBodySegmentation = defineCapability({
  serviceId: 'hd-body-segmentation',
  legacyIds: ['aliyun-imageseg-segment-hd-body'],
  kind: 'hd',
  action: 'SegmentHDBody',
  title: 'HD body segmentation',
  summary:
    'Cuts the people out of high-resolution photos (up to 40 MB and 10000x10000 pixels, unlike body_segmentation) and returns Data.ImageURL: a transparent PNG of the people. Input JPEG/PNG/BMP, larger than 32x32 pixels.',
  keywords: [
    'SegmentHDBody',
    '高清人体分割',
    '阿里云分割抠图',
    'image segmentation',
    'HD body segmentation',
    'high resolution',
    'human segmentation',
    'portrait segmentation',
    'person cutout',
    'background removal',
    'transparent background',
    'matting',
  ],
  input: {},
  images: {
    ImageURL: {
      role: 'primary',
      notes: 'Transparent PNG accepted.',
      formats: ['jpeg', 'bmp', 'png'], // 图像格式：JPG、JPEG 、BMP、PNG（透明图）
      maxBytes: 40 * 1024 * 1024, // 图像大小：不超过40 MB
      minSide: 32, // 图像分辨率：大于32×32像素，小于10000×10000像素
      maxSide: 10000, // both bounds are exclusive (大于/小于) in the reference; documented numbers kept
    },
  },
  async: 'never',
  price: DEFAULT_PRICE,
  resultShape: 'ImageURL',
  localModel: 'person',
});
