import { defineCapability, DEFAULT_PRICE, returnForm } from '../src/catalog/capability.js';

/** 商品分割 SegmentCommodity (imageseg 2019-12-30). */
export const productBackgroundRemoval = defineCapability({
  serviceId: 'product-background-removal',
  legacyIds: ['aliyun-imageseg-segment-commodity'],
  kind: 'products',
  action: 'SegmentCommodity',
  title: 'Product background removal',
  summary:
    'Removes the background from a product photo (one or several products, complex backgrounds) and returns Data.ImageURL: a transparent 4-channel PNG cutout, or a single-channel mask or white-background image depending on ReturnForm. Input JPEG/PNG/BMP/WEBP up to 3 MB, smaller than 1280x1280 pixels.',
  keywords: [
    'SegmentCommodity',
    '商品分割',
    '阿里云分割抠图',
    'image segmentation',
    'product background removal',
    'commodity segmentation',
    'product cutout',
    'e-commerce',
    'background removal',
    'remove background',
    'cutout',
    'matting',
    'mask generation',
    'foreground extraction',
    'foreground mask',
    'transparent background',
    'white background',
    'segment',
    'commodity',
  ],
  input: {
    ReturnForm: returnForm(['mask', 'whiteBK']),
  },
  images: {
    ImageURL: {
      role: 'primary',
      notes: '8-, 16- and 64-bit PNG not supported.',
      formats: ['jpeg', 'png', 'bmp', 'webp'], // 图像格式：JPEG、JPG、PNG（不支持8位、16位、64位PNG）、BMP、WEBP
      maxBytes: 3 * 1024 * 1024, // 图像大小：不超过3 MB
      maxSide: 1280, // 图像分辨率：小于1280×1280像素: strictly less (小于) in the reference; documented number kept
    },
  },
  async: 'never',
  price: DEFAULT_PRICE,
  resultShape: 'ImageURL',
  localModel: 'salient-object',
  cutout: { image: 'ImageURL', returnForm: 'ReturnForm' },
});
