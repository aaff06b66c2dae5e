import * as core from '@alicloud/openapi-core';
import * as dara from '@darabonba/typescript';
import imageseg from '@alicloud/imageseg20191230';

export type SdkCall = (action: string, params: Record<string, string>) => Promise<Record<string, unknown>>;

/** Plain Node hands over the CommonJS exports object (class at `.default`). */
function classOf<T>(exported: unknown): T {
  return (typeof exported === 'function' ? exported : (exported as { default: unknown }).default) as T;
}

/**
 * The baseline caller: the official imageseg SDK client's `callApi`, configured the way an integrator would call
 * one Action directly (no gateway, no retries, no image pre-checks).
 */
export function createSdkCaller(options: { endpoint: string; accessKeyId: string; accessKeySecret: string }): SdkCall {
  const { Config, Params, OpenApiRequest } = core.$OpenApiUtil;
  const Client = classOf<typeof imageseg.default>(imageseg);
  const client = new Client(
    new Config({ accessKeyId: options.accessKeyId, accessKeySecret: options.accessKeySecret, endpoint: options.endpoint, protocol: 'http', regionId: 'cn-shanghai' }),
  );
  const runtime = new dara.RuntimeOptions({ autoretry: false, readTimeout: 60_000, connectTimeout: 10_000 });
  return async (action, params) => {
    const response = await client.callApi(
      new Params({ action, version: '2019-12-30', protocol: 'HTTP', pathname: '/', method: 'POST', authType: 'AK', style: 'RPC', reqBodyType: 'formData', bodyType: 'json' }),
      new OpenApiRequest({ query: core.OpenApiUtil.query(params) }),
      runtime,
    );
    return (response.body ?? {}) as Record<string, unknown>;
  };
}
