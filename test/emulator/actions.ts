/**
 * The per-Action table of the imageseg 2019-12-30 API, taken from the reference
 * (/work/shared/seeds/alibaba-imageseg-2019-12-30.zh.txt): request parameters with 是否必选,
 * input limits (输入限制), async mode, and the response `Data` each Action returns (返回数据),
 * computed from the real input pixels by ./segment.ts.
 */
import { AliError, aliError, missingParameter } from './errors.js';
import {
  MB,
  encodeGrayPng,
  encodeRgbJpeg,
  encodeRgbPng,
  encodeRgbaPng,
  resizeCover,
  resizeMask,
  type ImageFormat,
  type ImageLimits,
  type Raster,
} from './images.js';
import { boundingBox, components, faceParts, foregroundMask, refineMask, skinMask, skyMask, type Mask } from './segment.js';

export type AsyncMode = 'never' | 'optional' | 'always';
export type ParamType = 'string' | 'boolean' | 'integer' | 'list';

export interface ParamSpec {
  name: string;
  required: boolean;
  type: ParamType;
  /** The value is an image URL the service downloads. */
  image?: boolean;
  /** Allowed values, checked when the parameter is present. */
  enum?: readonly string[];
}

export interface ActionContext {
  action: string;
  params: Readonly<Record<string, string>>;
  /** Download and decode the image named by this parameter, with the Action's input limits. */
  image(param: string): Promise<Raster>;
  /** Store a result image; returns its temporary URL. */
  putResult(bytes: Buffer, ext: 'png' | 'jpg'): string;
  /** GetAsyncJobResult: the Data view of a job, or undefined when no such job. */
  jobView(jobId: string): Record<string, unknown> | undefined;
}

export interface ActionSpec {
  action: string;
  params: readonly ParamSpec[];
  async: AsyncMode;
  /** Input limits for every image parameter (null: the Action takes no image). */
  limits: ImageLimits | null;
  /** Top-level fields of the response's Data (the async Result carries the same object). */
  dataFields: readonly string[];
  run(ctx: ActionContext): Promise<Record<string, unknown>>;
}

const JPEG_PNG_BMP_WEBP: readonly ImageFormat[] = ['jpeg', 'png', 'bmp', 'webp'];
const JPEG_PNG_BMP: readonly ImageFormat[] = ['jpeg', 'png', 'bmp'];
const JPEG_PNG: readonly ImageFormat[] = ['jpeg', 'png'];

const img = (name: string): ParamSpec => ({ name, required: true, type: 'string', image: true });
const returnForm: ParamSpec = { name: 'ReturnForm', required: false, type: 'string' };

// ---------------------------------------------------------------------------------------------
// output helpers

/** RGBA with alpha = min(source alpha, mask). */
function cutoutRgba(r: Raster, mask: Mask, keep?: (i: number) => boolean): Buffer {
  const out = Buffer.from(r.data);
  for (let i = 0; i < r.width * r.height; i++) {
    const a = keep && !keep(i) ? 0 : mask[i];
    out[i * 4 + 3] = Math.min(out[i * 4 + 3], a);
  }
  return out;
}

function cropRgba(rgba: Buffer, width: number, box: { x: number; y: number; width: number; height: number }): Buffer {
  const out = Buffer.alloc(box.width * box.height * 4);
  for (let y = 0; y < box.height; y++) {
    rgba.copy(out, y * box.width * 4, ((box.y + y) * width + box.x) * 4, ((box.y + y) * width + box.x + box.width) * 4);
  }
  return out;
}

function cropGray(mask: Mask, width: number, box: { x: number; y: number; width: number; height: number }): Uint8Array {
  const out = new Uint8Array(box.width * box.height);
  for (let y = 0; y < box.height; y++) {
    out.set(mask.subarray((box.y + y) * width + box.x, (box.y + y) * width + box.x + box.width), y * box.width);
  }
  return out;
}

/** Effective alpha of the cutout (source alpha ∧ mask), the single-channel mask Alibaba returns. */
function effectiveMask(r: Raster, mask: Mask): Uint8Array {
  const out = new Uint8Array(r.width * r.height);
  for (let i = 0; i < out.length; i++) out[i] = Math.min(mask[i], r.data[i * 4 + 3]);
  return out;
}

function onWhite(r: Raster, mask: Mask): Buffer {
  const n = r.width * r.height;
  const out = Buffer.alloc(n * 3);
  for (let i = 0; i < n; i++) {
    const a = Math.min(mask[i], r.data[i * 4 + 3]) / 255;
    for (let c = 0; c < 3; c++) out[i * 3 + c] = Math.round(r.data[i * 4 + c] * a + 255 * (1 - a));
  }
  return out;
}

type Form = 'mask' | 'whiteBK' | 'crop';

/**
 * Render a subject mask the way ReturnForm asks: `mask` → single-channel PNG, `whiteBK` → subject
 * on white, `crop` → 4-channel PNG cropped to the subject, anything else → full-size 4-channel PNG.
 * Only the forms the Action documents are honoured; others fall back to the 4-channel PNG.
 */
async function renderSubject(ctx: ActionContext, r: Raster, mask: Mask, allowed: readonly Form[]): Promise<string> {
  const form = ctx.params.ReturnForm as Form | undefined;
  if (form && allowed.includes(form)) {
    if (form === 'mask') return ctx.putResult(await encodeGrayPng(r.width, r.height, effectiveMask(r, mask)), 'png');
    if (form === 'whiteBK') return ctx.putResult(await encodeRgbPng(r.width, r.height, onWhite(r, mask)), 'png');
    const box = boundingBox(mask, r.width, r.height) ?? { x: 0, y: 0, width: 1, height: 1 };
    const rgba = cutoutRgba(r, mask);
    return ctx.putResult(await encodeRgbaPng(box.width, box.height, cropRgba(rgba, r.width, box)), 'png');
  }
  return ctx.putResult(await encodeRgbaPng(r.width, r.height, cutoutRgba(r, mask)), 'png');
}

/** Subject-cutout Actions whose Data is `{ ImageURL }` (or `{ ImageUrl }`). */
function subjectAction(action: string, limits: ImageLimits, forms: readonly Form[], opts: { urlParam?: string; dataKey?: string; async?: AsyncMode; extra?: readonly ParamSpec[] } = {}): ActionSpec {
  const urlParam = opts.urlParam ?? 'ImageURL';
  const dataKey = opts.dataKey ?? 'ImageURL';
  return {
    action,
    params: [img(urlParam), ...(forms.length ? [returnForm] : []), ...(opts.extra ?? [])],
    async: opts.async ?? 'never',
    limits,
    dataFields: [dataKey],
    async run(ctx) {
      const r = await ctx.image(urlParam);
      return { [dataKey]: await renderSubject(ctx, r, foregroundMask(r), forms) };
    },
  };
}

/** Head / Face / Hair: one element per subject region, cropped, with its position in the image. */
function elementsAction(action: string, limits: ImageLimits, withReturnForm: boolean): ActionSpec {
  return {
    action,
    params: [img('ImageURL'), ...(withReturnForm ? [returnForm] : [])],
    async: 'never',
    limits,
    dataFields: ['Elements'],
    async run(ctx) {
      const r = await ctx.image('ImageURL');
      const mask = foregroundMask(r);
      const { labels, list } = components(mask, r.width, r.height, Math.max(16, Math.round(r.width * r.height * 0.002)));
      const asMask = withReturnForm && ctx.params.ReturnForm === 'mask';
      const elements: Array<Record<string, unknown>> = [];
      for (const c of list) {
        const keep = (i: number): boolean => labels[i] === c.label || (labels[i] === 0 && mask[i] < 128);
        const url = asMask
          ? ctx.putResult(await encodeGrayPng(c.width, c.height, cropGray(effectiveMask(r, mask).map((v, i) => (keep(i) ? v : 0)), r.width, c)), 'png')
          : ctx.putResult(await encodeRgbaPng(c.width, c.height, cropRgba(cutoutRgba(r, mask, keep), r.width, c)), 'png');
        elements.push({ ImageURL: url, X: c.x, Y: c.y, Width: c.width, Height: c.height });
      }
      return { Elements: elements };
    },
  };
}

/** Luminance (or alpha, for transparent PNGs) of a mask image as a single channel. */
function maskFromRaster(r: Raster): Mask {
  const n = r.width * r.height;
  const out = new Uint8Array(n);
  let transparent = 0;
  for (let i = 0; i < n; i++) if (r.data[i * 4 + 3] < 128) transparent++;
  const useAlpha = r.hasAlpha && transparent > 0;
  for (let i = 0; i < n; i++) {
    const o = i * 4;
    out[i] = useAlpha ? r.data[o + 3] : Math.round(0.299 * r.data[o] + 0.587 * r.data[o + 1] + 0.114 * r.data[o + 2]);
  }
  return out;
}

const CLOTH_CLASSES = ['tops', 'coat', 'skirt', 'pants', 'bag', 'shoes', 'hat'] as const;

// ---------------------------------------------------------------------------------------------
// limits, per 输入限制 of each Action

const L = (formats: readonly ImageFormat[], maxMB: number, minSide?: number, maxSide?: number, aspect?: readonly [number, number]): ImageLimits => ({
  formats,
  maxBytes: Math.round(maxMB * MB),
  ...(minSide !== undefined ? { minSide } : {}),
  ...(maxSide !== undefined ? { maxSide } : {}),
  ...(aspect ? { aspect } : {}),
});

export const ASYNC_SUBMIT_MESSAGE =
  '该调用为异步调用，任务已提交成功，请以requestId的值作为jobId参数调用同类目下GetAsyncJobResult接口查询任务执行状态和结果。';

const specs: ActionSpec[] = [
  // 3.1 人体分割: ReturnForm mask | crop | whiteBK; Async optional
  subjectAction('SegmentBody', L(JPEG_PNG_BMP_WEBP, 3, undefined, 1280), ['mask', 'crop', 'whiteBK'], {
    async: 'optional',
    extra: [{ name: 'Async', required: false, type: 'boolean' }],
  }),
  // 3.2 头像分割: ReturnForm mask; Data.Elements[{ImageURL, X, Y, Width, Height}]
  elementsAction('SegmentHead', L(JPEG_PNG_BMP, 3, 32, 2000), true),
  // 3.3 面部分割
  elementsAction('SegmentFace', L(JPEG_PNG_BMP, 3, 32, 2000), false),
  // 3.4 头发分割
  elementsAction('SegmentHair', L(JPEG_PNG_BMP, 3, 32, 2000), false),
  // 3.5 五官分割: Data { OriginImageURL, Elements[{ Name, ImageURL }] }
  {
    action: 'ParseFace',
    params: [img('ImageURL')],
    async: 'never',
    limits: L(JPEG_PNG, 4, 100, 2048, [0.5, 2.0]),
    dataFields: ['OriginImageURL', 'Elements'],
    async run(ctx) {
      const r = await ctx.image('ImageURL');
      const parts = faceParts(foregroundMask(r), r.width, r.height);
      if (!parts) throw aliError('InvalidImage.Content', 'No face was detected in ImageURL.');
      const elements: Array<Record<string, unknown>> = [];
      for (const [name, m] of Object.entries(parts)) {
        elements.push({ ImageURL: ctx.putResult(await encodeRgbaPng(r.width, r.height, cutoutRgba(r, m)), 'png'), Name: name });
      }
      return { OriginImageURL: ctx.params.ImageURL, Elements: elements };
    },
  },
  // 3.6 皮肤分割: param URL; Data { URL } (mask image)
  {
    action: 'SegmentSkin',
    params: [img('URL')],
    async: 'never',
    limits: L(JPEG_PNG_BMP, 3, 32, 2000),
    dataFields: ['URL'],
    async run(ctx) {
      const r = await ctx.image('URL');
      return { URL: ctx.putResult(await encodeGrayPng(r.width, r.height, skinMask(r)), 'png') };
    },
  },
  // 4.1 商品分割: ReturnForm mask | whiteBK
  subjectAction('SegmentCommodity', L(JPEG_PNG_BMP_WEBP, 3, undefined, 1280), ['mask', 'whiteBK']),
  // 4.2 家具分割: Data.Elements[{ ImageURL }]
  {
    action: 'SegmentFurniture',
    params: [img('ImageURL')],
    async: 'never',
    limits: L(JPEG_PNG_BMP, 4, 40, 1999),
    dataFields: ['Elements'],
    async run(ctx) {
      const r = await ctx.image('ImageURL');
      return { Elements: [{ ImageURL: await renderSubject(ctx, r, foregroundMask(r), []) }] };
    },
  },
  // 4.3 服饰分割: Data.Elements[{ ImageURL }]; ClothClass / ReturnForm / OutMode are SDK v4 extras
  // (not in the 2022 reference): with ClothClass a second element carries ClassUrl { <class>: url }.
  {
    action: 'SegmentCloth',
    params: [
      img('ImageURL'),
      { name: 'ClothClass', required: false, type: 'list', enum: CLOTH_CLASSES },
      { name: 'ReturnForm', required: false, type: 'string', enum: ['whiteBK', 'mask'] },
      { name: 'OutMode', required: false, type: 'integer', enum: ['0', '1'] },
    ],
    async: 'never',
    limits: L(JPEG_PNG_BMP, 3, 50, 3000),
    dataFields: ['Elements'],
    async run(ctx) {
      const r = await ctx.image('ImageURL');
      const mask = foregroundMask(r);
      const elements: Array<Record<string, unknown>> = [{ ImageURL: await renderSubject(ctx, r, mask, ['mask', 'whiteBK']) }];
      const classes = Object.keys(ctx.params).filter((k) => /^ClothClass\.\d+$/.test(k)).map((k) => ctx.params[k]);
      if (classes.length) {
        const box = boundingBox(mask, r.width, r.height);
        const mid = box ? box.y + box.height / 2 : r.height / 2;
        const classUrl: Record<string, string> = {};
        for (const cls of classes) {
          const upper = cls === 'tops' || cls === 'coat';
          const lower = cls === 'pants' || cls === 'skirt';
          const m = mask.map((v, i) => {
            const y = Math.floor(i / r.width);
            return (upper && y < mid) || (lower && y >= mid) ? v : 0;
          });
          classUrl[cls] = ctx.putResult(await encodeRgbaPng(r.width, r.height, cutoutRgba(r, m)), 'png');
        }
        elements.push({ ClassUrl: classUrl });
      }
      return { Elements: elements };
    },
  },
  // 5.1 通用分割: ReturnForm mask | whiteBK
  subjectAction('SegmentCommonImage', L(JPEG_PNG_BMP_WEBP, 3, 32, 2000), ['mask', 'whiteBK']),
  // 5.2 车辆分割: Data.Elements[{ ImageURL, OriginImageURL }]
  {
    action: 'SegmentVehicle',
    params: [img('ImageURL')],
    async: 'never',
    limits: L(JPEG_PNG_BMP, 3, 32, 2000),
    dataFields: ['Elements'],
    async run(ctx) {
      const r = await ctx.image('ImageURL');
      return { Elements: [{ ImageURL: await renderSubject(ctx, r, foregroundMask(r), []), OriginImageURL: ctx.params.ImageURL }] };
    },
  },
  // 5.3 动物分割: ReturnForm mask | whiteBK
  subjectAction('SegmentAnimal', L(JPEG_PNG_BMP, 3, 50, 2000), ['mask', 'whiteBK']),
  // 5.4 天空分割: Data { ImageURL } — the sky region, 4-channel
  {
    action: 'SegmentSky',
    params: [img('ImageURL')],
    async: 'never',
    limits: L(JPEG_PNG_BMP, 3, 50, 3000),
    dataFields: ['ImageURL'],
    async run(ctx) {
      const r = await ctx.image('ImageURL');
      return { ImageURL: ctx.putResult(await encodeRgbaPng(r.width, r.height, cutoutRgba(r, skyMask(r))), 'png') };
    },
  },
  // 5.5 食品分割: ReturnForm mask | whiteBK
  subjectAction('SegmentFood', L(JPEG_PNG_BMP, 4, 40, 1999), ['mask', 'whiteBK']),
  // 5.6 Logo分割
  subjectAction('SegmentLogo', L(JPEG_PNG_BMP, 3, undefined, 1280), []),
  // 5.7 室外场景分割: Data { ImageURL } — a colour-coded label map (sky / other)
  {
    action: 'SegmentScene',
    params: [img('ImageURL')],
    async: 'never',
    limits: L(JPEG_PNG_BMP, 3, 50, 3000),
    dataFields: ['ImageURL'],
    async run(ctx) {
      const r = await ctx.image('ImageURL');
      const sky = skyMask(r);
      const subject = foregroundMask(r);
      const out = Buffer.alloc(r.width * r.height * 3);
      for (let i = 0; i < r.width * r.height; i++) {
        const colour = sky[i] >= 128 ? [70, 130, 180] : subject[i] >= 128 ? [220, 20, 60] : [128, 64, 128];
        out[i * 3] = colour[0]!; out[i * 3 + 1] = colour[1]!; out[i * 3 + 2] = colour[2]!;
      }
      return { ImageURL: ctx.putResult(await encodeRgbPng(r.width, r.height, out), 'png') };
    },
  },
  // 5.8 高清人体分割
  subjectAction('SegmentHDBody', L(JPEG_PNG_BMP, 40, 32, 10000), []),
  // 5.9 Mask精细化分割: MaskImageURL + ImageURL; Data.Elements[{ ImageURL }] (refined mask)
  {
    action: 'RefineMask',
    params: [img('MaskImageURL'), img('ImageURL')],
    async: 'never',
    limits: L(JPEG_PNG_BMP, 3, 32, 2000),
    dataFields: ['Elements'],
    async run(ctx) {
      const [r, m] = await Promise.all([ctx.image('ImageURL'), ctx.image('MaskImageURL')]);
      const coarse = await resizeMask(maskFromRaster(m), m.width, m.height, r.width, r.height);
      return { Elements: [{ ImageURL: ctx.putResult(await encodeGrayPng(r.width, r.height, refineMask(r, coarse)), 'png') }] };
    },
  },
  // 5.10 天空高清分割: Data { ImageURL } — the sky mask
  {
    action: 'SegmentHDSky',
    params: [img('ImageURL')],
    async: 'never',
    limits: L(JPEG_PNG, 9.5, 50, 5000),
    dataFields: ['ImageURL'],
    async run(ctx) {
      const r = await ctx.image('ImageURL');
      return { ImageURL: ctx.putResult(await encodeGrayPng(r.width, r.height, skyMask(r)), 'png') };
    },
  },
  // 5.11 通用高清分割: param ImageUrl, Data { ImageUrl }; always async (7. 查询异步任务结果)
  subjectAction('SegmentHDCommonImage', L(JPEG_PNG_BMP, 40, 32, 10000), [], { urlParam: 'ImageUrl', dataKey: 'ImageUrl', async: 'always' }),
  // 6.1 天空替换: ImageURL + ReplaceImageURL; Data { ImageURL } (JPEG)
  {
    action: 'ChangeSky',
    params: [img('ImageURL'), img('ReplaceImageURL')],
    async: 'never',
    limits: L(JPEG_PNG_BMP, 9, 50, 3000),
    dataFields: ['ImageURL'],
    async run(ctx) {
      const [target, replacement] = await Promise.all([ctx.image('ImageURL'), ctx.image('ReplaceImageURL')]);
      const sky = skyMask(target);
      const repl = await resizeCover(replacement, target.width, target.height);
      const out = Buffer.alloc(target.width * target.height * 3);
      for (let i = 0; i < target.width * target.height; i++) {
        const a = sky[i] / 255;
        for (let c = 0; c < 3; c++) out[i * 3 + c] = Math.round(repl[i * 4 + c] * a + target.data[i * 4 + c] * (1 - a));
      }
      return { ImageURL: ctx.putResult(await encodeRgbJpeg(target.width, target.height, out), 'jpg') };
    },
  },
  // 7. 查询异步任务结果: JobId; Data { JobId, Status, Result?, ErrorCode?, ErrorMessage? }
  {
    action: 'GetAsyncJobResult',
    params: [{ name: 'JobId', required: true, type: 'string' }],
    async: 'never',
    limits: null,
    dataFields: ['JobId', 'Status', 'Result', 'ErrorCode', 'ErrorMessage'],
    async run(ctx) {
      const jobId = ctx.params.JobId;
      const view = ctx.jobView(jobId);
      // Not in the reference; viapi's async error table documents InvalidParameter.BadRequest (400) for this API.
      if (!view) throw aliError('InvalidParameter.BadRequest', `The specified JobId does not exist: ${jobId}`);
      return view;
    },
  },
];

export const ACTIONS: ReadonlyMap<string, ActionSpec> = new Map(specs.map((s) => [s.action, s]));

/** Is this call asynchronous: always-async Actions, or `Async=true` where the Action has that parameter. */
export function isAsyncCall(spec: ActionSpec, params: Readonly<Record<string, string>>): boolean {
  return spec.async === 'always' || (spec.async === 'optional' && params.Async === 'true');
}

/**
 * POP-gateway parameter checks: an absent (or empty) required parameter is `Missing<Name>`
 * (e.g. MissingImageURL, MissingJobId; HTTP 400), a malformed Boolean / Integer or a value
 * outside an enum is InvalidParameter (HTTP 400). List parameters arrive flattened as `Name.1`, `Name.2`….
 */
export function validateParams(spec: ActionSpec, params: Readonly<Record<string, string>>): void {
  for (const p of spec.params) {
    if (p.type === 'list') {
      const values = Object.keys(params).filter((k) => k.startsWith(`${p.name}.`) && /^\d+$/.test(k.slice(p.name.length + 1))).map((k) => params[k]);
      if (values.length === 0 && params[p.name] !== undefined && params[p.name] !== '') values.push(params[p.name]);
      if (values.length === 0) {
        if (p.required) throw missingParameter(p.name);
        continue;
      }
      for (const v of values) {
        if (p.enum && !p.enum.includes(v)) throw invalidParameter(p.name, v, p.enum);
      }
      continue;
    }
    const value = params[p.name];
    if (value === undefined || value === '') {
      if (p.required) throw missingParameter(p.name);
      continue;
    }
    if (p.type === 'boolean' && value !== 'true' && value !== 'false') throw invalidParameter(p.name, value, ['true', 'false']);
    if (p.type === 'integer' && !/^-?\d+$/.test(value)) throw invalidParameter(p.name, value);
    if (p.enum && !p.enum.includes(value)) throw invalidParameter(p.name, value, p.enum);
  }
}

function invalidParameter(name: string, value: string, allowed?: readonly string[]): AliError {
  return new AliError('InvalidParameter', 400, `Specified parameter ${name} is not valid: "${value}"${allowed ? ` (allowed: ${allowed.join(', ')})` : ''}.`);
}
