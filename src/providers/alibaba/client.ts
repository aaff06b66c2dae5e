import type { Config } from '../../config.js';

export interface AlibabaResponseBody {
  RequestId?: string;
  Data?: Record<string, unknown>;
  Message?: string;
  [field: string]: unknown;
}

/** `signal`: the SDK cannot abort a request it sent, so an aborted call stops waiting for it and sends no more. */
export type ActionCaller = (action: string, params: Record<string, unknown>, signal?: AbortSignal) => Promise<AlibabaResponseBody>;

/** Which RPC API a caller talks to: the product's SDK client, or the SDK's generic client for another API. */
export interface RpcApi {
  client: 'imageseg' | 'generic';
  endpoint: string;
  version: string;
  method: 'GET' | 'POST';
}

export const imagesegApi = (alibaba: Config['alibaba']): RpcApi => ({ client: 'imageseg', endpoint: alibaba.endpoint, version: '2019-12-30', method: 'POST' });

/** The open platform's AuthorizeFileUpload, called the way the SDK's `*Advance` methods call it. */
export const openPlatformApi = (alibaba: Config['alibaba']): RpcApi => ({ client: 'generic', endpoint: alibaba.openPlatformEndpoint, version: '2019-12-19', method: 'GET' });

/**
 * One generic path for every Action: the official SDK client's `callApi` with the Action's RPC parameters, the
 * way the SDK's generated methods call it. Six Actions have no generated method and Async is missing from some
 * request models, so going through `callApi` is what keeps all 22 Actions on one code path. The SDK is imported
 * on first use: loading it costs ~400 ms that a stdio client would otherwise wait for at start.
 */
export function createActionCaller(alibaba: Config['alibaba'], api: RpcApi = imagesegApi(alibaba)): ActionCaller {
  let ready: Promise<ActionCaller> | undefined;

  async function build(): Promise<ActionCaller> {
    const [core, dara] = await Promise.all([import('@alicloud/openapi-core'), import('@darabonba/typescript')]);
    const { Config: SdkConfig, Params, OpenApiRequest } = core.$OpenApiUtil;
    const sdkConfig = new SdkConfig({
      accessKeyId: alibaba.accessKeyId,
      accessKeySecret: alibaba.accessKeySecret,
      endpoint: api.endpoint,
      protocol: alibaba.protocol,
      regionId: 'cn-shanghai',
      readTimeout: 60_000,
      connectTimeout: 10_000,
    });
    const client = api.client === 'imageseg' ? new (await imagesegClientClass())(sdkConfig) : new (defaultExport(core.default) as typeof core.default.default)(sdkConfig);
    return async (action, params) => {
      const response = await client.callApi(
        new Params({
          action,
          version: api.version,
          protocol: alibaba.protocol.toUpperCase(),
          pathname: '/',
          method: api.method,
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

  return async (action, params, signal) => {
    signal?.throwIfAborted();
    ready ??= build();
    const call = await ready;
    signal?.throwIfAborted();
    return signal ? abortable(call(action, params), signal) : call(action, params);
  };
}

function abortable<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

async function imagesegClientClass() {
  const imageseg = await import('@alicloud/imageseg20191230');
  return defaultExport(imageseg.default) as typeof imageseg.default.default;
}

/** Plain Node hands over the CommonJS exports object (class at `.default`); some loaders hand over the class. */
function defaultExport(exported: unknown): unknown {
  return typeof exported === 'function' ? exported : (exported as { default: unknown }).default;
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
