import { defineCapability, DEFAULT_PRICE } from '../src/catalog/capability.js';

/** 天空替换 ChangeSky (imageseg 2019-12-30). */
export const skyReplacement = defineCapability({
  serviceId: 'sky-replacement',
  legacyIds: ['aliyun-imageseg-change-sky'],
  kind: 'scenes',
  action: 'ChangeSky',
  title: 'Sky replacement',
  summary:
    'Replaces the sky of a target image with the sky style of a reference image and returns Data.ImageURL: the edited target image. Both images PNG/JPEG/BMP up to 9 MB, 50x50 to 3000x3000 pixels.',
  keywords: [
    'ChangeSky',
    '天空替换',
    '阿里云分割抠图',
    'image segmentation',
    'sky replacement',
    'change sky',
    'replace sky',
    'sky swap',
    'photo editing',
    'landscape',
    'outdoor photo',
    '分割替换',
  ],
  input: {},
  images: {
    ImageURL: {
      role: 'primary',
      purpose: 'Target image whose sky is replaced',
      formats: ['png', 'jpeg', 'bmp'], // 图像格式：PNG、JPEG、JPG、BMP
      maxBytes: 9 * 1024 * 1024, // 图像大小：不超过9 MB
      minSide: 50, // 图像分辨率：大于50×50像素，小于3000×3000像素
      maxSide: 3000, // both bounds are exclusive (大于/小于) in the reference; documented numbers kept
    },
    ReplaceImageURL: {
      role: 'replacement',
      purpose: 'Reference image whose sky is copied into ImageURL',
      formats: ['png', 'jpeg', 'bmp'], // 图像格式：PNG、JPEG、JPG、BMP
      maxBytes: 9 * 1024 * 1024, // 图像大小：不超过9 MB
      minSide: 50, // 图像分辨率：大于50×50像素，小于3000×3000像素
      maxSide: 3000, // both bounds are exclusive (大于/小于) in the reference; documented numbers kept
    },
  },
  async: 'never',
  price: DEFAULT_PRICE,
  resultShape: 'ImageURL',
});
