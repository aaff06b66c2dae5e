import { defineCapability, DEFAULT_PRICE } from '../src/catalog/capability.js';

/** 通用高清分割 SegmentHDCommonImage (imageseg 2019-12-30). */
export const hdGeneralSegmentation = defineCapability({
  serviceId: 'hd-general-segmentation',
  legacyIds: ['aliyun-imageseg-segment-hd-common-image'],
  kind: 'hd',
  action: 'SegmentHDCommonImage',
  title: 'HD general subject segmentation',
  summary:
    'Cuts the main subject out of high-resolution images (up to 40 MB and 10000x10000 pixels, unlike general_segmentation) and returns Data.ImageUrl: a transparent PNG. An Alibaba job: the call waits for it and returns the image. Input PNG/JPEG/BMP, larger than 32x32 pixels. Note the image parameter is named ImageUrl.',
  keywords: [
    'SegmentHDCommonImage',
    '通用高清分割',
    '阿里云分割抠图',
    'image segmentation',
    'HD general segmentation',
    'high resolution',
    'salient object',
    'background removal',
    'remove background',
    'cutout',
    'matting',
    'transparent background',
    'async',
  ],
  input: {},
  images: {
    ImageUrl: {
      role: 'primary',
      formats: ['png', 'jpeg', 'bmp'], // 图像格式：PNG、JPEG、JPG、BMP
      maxBytes: 40 * 1024 * 1024, // 图像大小：不超过40 MB
      minSide: 32, // 图像分辨率：大于32×32像素，小于10000×10000像素
      maxSide: 10000, // both bounds are exclusive (大于/小于) in the reference; documented numbers kept
    },
  },
  async: 'always',
  price: DEFAULT_PRICE,
  localModel: 'salient-object',
  resultShape: 'ImageUrl',
});
