import { defineCapability, DEFAULT_PRICE } from '../src/catalog/capability.js';

/** 五官分割 ParseFace (imageseg 2019-12-30). */
export const faceParsing = defineCapability({
  serviceId: 'face-parsing',
  legacyIds: ['aliyun-imageseg-parse-face'],
  kind: 'people',
  action: 'ParseFace',
  title: 'Face parsing (facial features)',
  summary:
    'Pixel-level semantic segmentation of one frontal face: returns Data.OriginImageURL and Data.Elements, one image URL per part with its Name (skin, l_brow, r_brow, l_eye, r_eye, nose, u_lip, l_lip, and when present l_ear, r_ear, mouth). Input JPEG/PNG up to 4 MB, 100x100 to 2048x2048 pixels, aspect ratio 0.5-2.0, a single unobstructed frontal face at least 100x100 pixels.',
  keywords: [
    'ParseFace',
    '五官分割',
    '阿里云分割抠图',
    'image segmentation',
    'face parsing',
    'facial features',
    'facial landmarks segmentation',
    'eyes',
    'eyebrows',
    'nose',
    'mouth',
    'lips',
    'skin',
    'ears',
    'semantic segmentation',
    'makeup',
  ],
  input: {},
  images: {
    ImageURL: {
      role: 'primary',
      notes: 'It must contain exactly one frontal face without glasses, hat or other occlusion; the face must be at least 100x100 pixels and its box at least 1/10 of the corresponding image side.',
      formats: ['jpeg', 'png'], // 图像格式：JPG、JPEG 、PNG
      maxBytes: 4 * 1024 * 1024, // 图像大小：不超过4 MB
      minSide: 100, // 图像分辨率：大于100×100像素，小于2048×2048像素
      maxSide: 2048, // both bounds are exclusive (大于/小于) in the reference; documented numbers kept
      maxAspectRatio: 2, // 且宽高比在0.5~2.0之间
    },
  },
  async: 'never',
  price: DEFAULT_PRICE,
  resultShape: 'Elements',
});
