import { defineCapability, DEFAULT_PRICE } from '../src/catalog/capability.js';

/** 车辆分割 SegmentVehicle (imageseg 2019-12-30). */
export const vehicleSegmentation = defineCapability({
  serviceId: 'vehicle-segmentation',
  legacyIds: ['aliyun-imageseg-segment-vehicle'],
  kind: 'products',
  action: 'SegmentVehicle',
  title: 'Vehicle segmentation',
  summary:
    'Pixel-level cutout of the cars/vehicles in a photo; returns Data.Elements, each with ImageURL (a transparent PNG of the vehicle) and OriginImageURL (the input image). Input JPEG/PNG/BMP up to 3 MB, 32x32 to 2000x2000 pixels.',
  keywords: [
    'SegmentVehicle',
    '车辆分割',
    '阿里云分割抠图',
    'image segmentation',
    'vehicle segmentation',
    'car segmentation',
    'car cutout',
    'automotive',
    'car background removal',
    'transparent background',
    'matting',
  ],
  input: {},
  images: {
    ImageURL: {
      role: 'primary',
      formats: ['jpeg', 'bmp', 'png'], // 图像格式：JPEG、JPG、BMP、PNG
      maxBytes: 3 * 1024 * 1024, // 图像大小：不超过3 MB
      minSide: 32, // 图像分辨率：大于32×32像素，小于2000×2000像素
      maxSide: 2000, // both bounds are exclusive (大于/小于) in the reference; documented numbers kept
    },
  },
  async: 'never',
  price: DEFAULT_PRICE,
  localModel: 'salient-object',
  resultShape: 'ElementsWithOrigin',
});
