import { defineCapability, DEFAULT_PRICE, returnForm } from '../src/catalog/capability.js';

/** 动物分割 SegmentAnimal (imageseg 2019-12-30). */
export const animalSegmentation = defineCapability({
  serviceId: 'animal-segmentation',
  legacyIds: ['aliyun-imageseg-segment-animal'],
  kind: 'scenes',
  action: 'SegmentAnimal',
  title: 'Animal segmentation',
  summary:
    'Cuts animals (pets, wildlife, with fur-level edges) out of a photo and returns Data.ImageURL: a transparent 4-channel PNG, or a single-channel mask or white-background image depending on ReturnForm. Input JPEG/PNG/BMP up to 3 MB, 50x50 to 2000x2000 pixels; Alibaba gives up downloading the image after 2 seconds.',
  keywords: [
    'SegmentAnimal',
    '动物分割',
    '阿里云分割抠图',
    'image segmentation',
    'animal segmentation',
    'pet cutout',
    'cat',
    'dog',
    'wildlife',
    'fur',
    'background removal',
    'transparent background',
    'mask',
    'matting',
  ],
  input: {
    ReturnForm: returnForm(['mask', 'whiteBK']),
  },
  images: {
    ImageURL: {
      role: 'primary',
      notes: 'Alibaba times out downloading the image after 2 seconds.',
      formats: ['jpeg', 'bmp', 'png'], // 图像格式：JPG、JPEG 、BMP、PNG
      maxBytes: 3 * 1024 * 1024, // 图像大小：不超过3 MB
      minSide: 50, // 图像分辨率：大于50×50像素，小于2000×2000像素
      maxSide: 2000, // both bounds are exclusive (大于/小于) in the reference; documented numbers kept
    },
  },
  async: 'never',
  price: DEFAULT_PRICE,
  resultShape: 'ImageURL',
  localModel: 'salient-object',
});
