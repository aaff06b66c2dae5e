import type { ImageLimits } from '../../catalog/capability.js';
import type { ProvidersConfig } from '../../config.js';
import { AppError } from '../../errors.js';
import type { Provider, ProviderCall } from '../provider.js';
import { limitRefusal } from '../peer/limits.js';
import { requestPeer } from '../peer/request.js';
import { ailabtoolsError, type AilabtoolsBody } from './errors.js';

/** The seed: JPEG/JPG/BMP/PNG, no more than 3 MB, less than 2000x2000 px. */
const LIMITS: ImageLimits = { formats: ['jpeg', 'png', 'bmp'], maxBytes: 3 * 1024 * 1024, maxSide: 1999 };
const PATH = '/cutout/commodity/commodity';
/** Our ReturnForm -> its `return_form`; unset stays unset (its default is the transparent PNG): never an empty value. */
const RETURN_FORMS: Readonly<Record<string, string>> = { mask: 'mask', whiteBK: 'whiteBK' };
const EXTENSIONS: Readonly<Record<string, string>> = { jpeg: 'jpg', png: 'png', bmp: 'bmp' };

export interface AilabtoolsProviderOptions {
  settings: ProvidersConfig['ailabtools'] & { apiKey: string };
  silenceMs: number;
}

function cutoutOf(call: ProviderCall) {
  const role = call.capability.cutout;
  if (!role) throw new AppError('INTERNAL', `ailabtools cannot serve ${call.capability.action}`);
  return { image: call.images[role.image], returnForm: call.params[role.returnForm] };
}

/** ailabtools' Product Background Removal (API.market): a multipart upload, answered with a 24-hour image link. */
export function createAilabtoolsProvider(options: AilabtoolsProviderOptions): Provider {
  const { settings, silenceMs } = options;
  const url = `${settings.endpoint.replace(/\/+$/, '')}${PATH}`;
  return {
    name: 'ailabtools',
    supports: (capability) => capability.cutout !== undefined,
    refuses: (call) => limitRefusal('ailabtools', cutoutOf(call).image, LIMITS),
    async run(call) {
      const { image, returnForm } = cutoutOf(call);
      const form = new FormData();
      form.append('image', new Blob([new Uint8Array(image.bytes)], { type: image.mimeType }), `image.${EXTENSIONS[image.format] ?? 'png'}`);
      const mapped = typeof returnForm === 'string' ? RETURN_FORMS[returnForm] : undefined;
      if (mapped) form.append('return_form', mapped);
      const response = await requestPeer(url, { method: 'POST', headers: { 'x-api-market-key': settings.apiKey }, body: form }, {
        provider: 'ailabtools',
        silenceMs,
        ...(call.signal ? { signal: call.signal } : {}),
      });
      const body = response.body as AilabtoolsBody | undefined;
      const imageUrl = body?.data?.image_url;
      if (response.status !== 200 || body?.error_code !== 0 || !imageUrl) throw ailabtoolsError(response);
      return { requestId: body.request_id ?? body.log_id ?? '', data: { ImageURL: imageUrl }, provider: 'ailabtools' };
    },
  };
}
