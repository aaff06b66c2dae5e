import type { Config } from '../../config.js';

export interface AlibabaResponseBody {
  RequestId?: string;
  Data?: Record<string, unknown>;
  Message?: string;
  [field: string]: unknown;
}

export type ActionCaller = (action: string, params: Record<string, unknown>) => Promise<AlibabaResponseBody>;

/**
 * One generic path for every Action: the official SDK client's `callApi` with the Action's RPC parameters, the
 * way the SDK's generated methods call it. Six Actions have no generated method and Async is missing from some
 * request models, so going through `callApi` is what keeps all 22 Actions on one code path. The SDK is imported
 * on first use: loading it costs ~400 ms that a stdio client would otherwise wait for at start.
 */
export function createActionCaller(alibaba: Config['alibaba']): ActionCaller {
  let ready: Promise<ActionCaller> | undefined;

  async function build(): Promise<ActionCaller> {
    const [imageseg, core, dara] = await Promise.all([
      import('@alicloud/imageseg20191230'),
      import('@alicloud/openapi-core'),
      import('@darabonba/typescript'),
    ]);
    // Plain Node hands over the CommonJS exports object (class at `.default`); some loaders hand over the class.
    const exported = imageseg.default as unknown;
    const ImagesegClient = typeof exported === 'function' ? (exported as typeof imageseg.default.default) : imageseg.default.default;
    const { Config: SdkConfig, Params, OpenApiRequest } = core.$OpenApiUtil;
    const client = new ImagesegClient(
      new SdkConfig({
        accessKeyId: alibaba.accessKeyId,
        accessKeySecret: alibaba.accessKeySecret,
        endpoint: alibaba.endpoint,
        protocol: alibaba.protocol,
        regionId: 'cn-shanghai',
        readTimeout: 60_000,
        connectTimeout: 10_000,
      }),
    );
    return async (action, params) => {
      const response = await client.callApi(
        new Params({
          action,
          version: '2019-12-30',
          protocol: alibaba.protocol.toUpperCase(),
          pathname: '/',
          method: 'POST',
          authType: 'AK',
          style: 'RPC',
          reqBodyType: 'formData',
          bodyType: 'json',
        }),
        new OpenApiRequest({ query: core.OpenApiUtil.query(toQueryValues(params)) }),
        new dara.RuntimeOptions({ autoretry: false, readTimeout: 60_000, connectTimeout: 10_000 }),
      );
      return (response.body ?? {}) as AlibabaResponseBody;
    };
  }

  return (action, params) => {
    ready ??= build();
    return ready.then((call) => call(action, params));
  };
}

/** RPC query values are strings; nested values are flattened by OpenApiUtil.query (`Elements.1.Field`). */
function toQueryValues(params: Record<string, unknown>): Record<string, unknown> {
  const query: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(params)) {
    if (value === undefined) continue;
    query[name] = typeof value === 'boolean' || typeof value === 'number' ? String(value) : value;
  }
  return query;
}
