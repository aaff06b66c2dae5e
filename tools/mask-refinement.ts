import { defineCapability, DEFAULT_PRICE } from '../src/catalog/capability.js';

/** Mask精细化分割 RefineMask (imageseg 2019-12-30). */
export const maskRefinement = defineCapability({
  serviceId: 'mask-refinement',
  legacyIds: ['aliyun-imageseg-refine-mask'],
  kind: 'utility',
  action: 'RefineMask',
  title: 'Mask refinement',
  summary:
    'Refines a rough segmentation mask using the original image and returns Data.Elements, each with an ImageURL of the refined mask. Both images JPEG/PNG/BMP under 3 MB, 32x32 to 2000x2000 pixels.',
  keywords: [
    'RefineMask',
    'Mask精细化分割',
    '阿里云分割抠图',
    'image segmentation',
    'mask refinement',
    'refine mask',
    'matting',
    'alpha matte',
    'edge refinement',
    'cutout',
    'trimap',
    'segmentation mask',
  ],
  input: {},
  images: {
    ImageURL: {
      role: 'primary',
      purpose: 'Original image whose mask is refined',
      formats: ['jpeg', 'bmp', 'png'], // 图像格式：JPG、JPEG、BMP、PNG
      maxBytes: 3 * 1024 * 1024, // 图像大小：小于3 MB (strictly less in the reference)
      minSide: 32, // 图像分辨率：大于32×32像素，小于2000×2000像素
      maxSide: 2000, // both bounds are exclusive (大于/小于) in the reference; documented numbers kept
    },
    MaskImageURL: {
      role: 'mask',
      purpose: 'Rough mask image matching ImageURL',
      formats: ['jpeg', 'bmp', 'png'], // 图像格式：JPG、JPEG、BMP、PNG
      maxBytes: 3 * 1024 * 1024, // 图像大小：小于3 MB (strictly less in the reference)
      minSide: 32, // 图像分辨率：大于32×32像素，小于2000×2000像素
      maxSide: 2000, // both bounds are exclusive (大于/小于) in the reference; documented numbers kept
    },
  },
  async: 'never',
  price: DEFAULT_PRICE,
  localModel: 'mask-refinement',
  resultShape: 'Elements',
});
