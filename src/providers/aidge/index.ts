import type { ImageLimits } from '../../catalog/capability.js';
import type { ProvidersConfig } from '../../config.js';
import { AppError } from '../../errors.js';
import type { FetchOptions } from '../../fetch/fetch-url.js';
import type { Provider, ProviderCall } from '../provider.js';
import { maskFromCutout } from '../peer/alpha-mask.js';
import { limitRefusal } from '../peer/limits.js';
import { requestPeer } from '../peer/request.js';
import { aidgeError, type AidgeBody } from './errors.js';
import { signIopRequest } from './sign.js';

const API_PATH = '/ai/image/cut/out';
/** The seed: 100x100 to 3000x3000 pixels; it names no format or byte limit, so ours (checked before) stand. */
const LIMITS: ImageLimits = { formats: ['jpeg', 'png', 'bmp', 'webp'], maxBytes: 10 * 1024 * 1024, minSide: 100, maxSide: 3000 };

/**
 * Our ReturnForm -> its backGroundType. It has no mask form: a mask is the alpha of its transparent cutout.
 * targetWidth/targetHeight are never sent: they crop and rescale the subject, where every other provider returns
 * the input's frame; our own width/height/cropMargin options do that after any provider.
 */
const FORMS: Readonly<Record<string, { backGroundType: 'TRANSPARENT' | 'WHITE_BACKGROUND'; maskFromAlpha: boolean }>> = {
  transparent: { backGroundType: 'TRANSPARENT', maskFromAlpha: false },
  mask: { backGroundType: 'TRANSPARENT', maskFromAlpha: true },
  whiteBK: { backGroundType: 'WHITE_BACKGROUND', maskFromAlpha: false },
};

export interface AidgeProviderOptions {
  settings: ProvidersConfig['aidge'] & { appKey: string; appSecret: string };
  silenceMs: number;
  /** The guard result images are fetched under (for the mask made from a cutout). */
  images: FetchOptions;
}

function cutoutOf(call: ProviderCall) {
  const role = call.capability.cutout;
  if (!role) throw new AppError('INTERNAL', `Aidge cannot serve ${call.capability.action}`);
  const form = call.params[role.returnForm];
  return { image: call.images[role.image], form: FORMS[typeof form === 'string' && FORMS[form] ? form : 'transparent'] };
}

/** Aidge's Image Background Removal: a signed open-platform call with the image inline as base64. */
export function createAidgeProvider(options: AidgeProviderOptions): Provider {
  const { settings, silenceMs } = options;
  const url = `${settings.endpoint.replace(/\/+$/, '')}${API_PATH}`;
  return {
    name: 'aidge',
    supports: (capability) => capability.cutout !== undefined,
    refuses: (call) => limitRefusal('aidge', cutoutOf(call).image, LIMITS),
    async run(call) {
      const { image, form } = cutoutOf(call);
      // The bytes we hold were checked already; base64 spares Aidge fetching a URL it may not reach (and is preferred).
      const business = { imageBase64: image.bytes.toString('base64'), backGroundType: form.backGroundType };
      const system = { app_key: settings.appKey, timestamp: String(Date.now()), sign_method: 'sha256' };
      const sign = signIopRequest(API_PATH, { ...system, ...business }, settings.appSecret);
      const query = new URLSearchParams({ ...system, sign });
      const signal = call.signal;
      const response = await requestPeer(`${url}?${query}`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded;charset=utf-8' },
        body: new URLSearchParams(business).toString(),
      }, { provider: 'aidge', silenceMs, ...(signal ? { signal } : {}) });
      const body = response.body as AidgeBody | undefined;
      const imageUrl = body?.data?.imageUrl;
      if (response.status !== 200 || body?.resCode !== 200 || !imageUrl) throw aidgeError(response);
      const requestId = body.requestId ?? body.request_id ?? '';
      if (!form.maskFromAlpha) return { requestId, data: { ImageURL: imageUrl }, provider: 'aidge' };
      const mask = await maskFromCutout(imageUrl, 'ImageURL', { images: { ...options.images, ...(signal ? { signal } : {}) }, results: call.results, provider: 'aidge' });
      return { requestId, data: { ImageURL: mask.url }, images: [mask], provider: 'aidge' };
    },
  };
}
