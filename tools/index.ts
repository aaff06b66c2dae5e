import type { Capability } from '../src/catalog/capability.js';
import { bodySegmentation } from './body-segmentation.js';
import { headSegmentation } from './head-segmentation.js';
import { faceSegmentation } from './face-segmentation.js';
import { hairSegmentation } from './hair-segmentation.js';
import { faceParsing } from './face-parsing.js';
import { skinSegmentation } from './skin-segmentation.js';
import { productBackgroundRemoval } from './product-background-removal.js';
import { furnitureSegmentation } from './furniture-segmentation.js';
import { clothingSegmentation } from './clothing-segmentation.js';
import { generalSegmentation } from './general-segmentation.js';
import { vehicleSegmentation } from './vehicle-segmentation.js';
import { animalSegmentation } from './animal-segmentation.js';
import { skySegmentation } from './sky-segmentation.js';
import { foodSegmentation } from './food-segmentation.js';
import { logoSegmentation } from './logo-segmentation.js';
import { sceneSegmentation } from './scene-segmentation.js';
import { hdBodySegmentation } from './hd-body-segmentation.js';
import { maskRefinement } from './mask-refinement.js';
import { hdSkySegmentation } from './hd-sky-segmentation.js';
import { hdGeneralSegmentation } from './hd-general-segmentation.js';
import { skyReplacement } from './sky-replacement.js';
import { asyncJobResult } from './async-job-result.js';

/** Every Alibaba imageseg 2019-12-30 Action, in the reference order. */
export const capabilities = [
  bodySegmentation,
  headSegmentation,
  faceSegmentation,
  hairSegmentation,
  faceParsing,
  skinSegmentation,
  productBackgroundRemoval,
  furnitureSegmentation,
  clothingSegmentation,
  generalSegmentation,
  vehicleSegmentation,
  animalSegmentation,
  skySegmentation,
  foodSegmentation,
  logoSegmentation,
  sceneSegmentation,
  hdBodySegmentation,
  maskRefinement,
  hdSkySegmentation,
  hdGeneralSegmentation,
  skyReplacement,
  asyncJobResult,
] as const satisfies readonly Capability[];
