import { AppError } from '../errors.js';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import type { Capability } from '../catalog/capability.js';
import type { Provider } from './provider.js';
import { createAlibabaProvider } from './alibaba/index.js';
import { createLocalProvider } from './local/index.js';

export type { Provider, ProviderCall, ProviderResult, ResultImage, Progress } from './provider.js';

export interface ProviderRegistry {
  readonly active: 'alibaba' | 'local';
  /** The provider that serves this capability, or PROVIDER_NOT_CONFIGURED saying what to set. */
  select(capability: Capability): Provider;
  /** Whether a call to this capability can run as configured (for tools/list and the catalog). */
  available(capability: Capability): boolean;
}

const CREDENTIALS_HINT = 'set ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET';

export function createProviderRegistry(config: Config, logger: Logger): ProviderRegistry {
  if (config.provider === 'alibaba') {
    const configured = Boolean(config.alibaba.accessKeyId && config.alibaba.accessKeySecret);
    const alibaba = configured ? createAlibabaProvider(config, logger) : undefined;
    return {
      active: 'alibaba',
      select(capability) {
        if (!alibaba) {
          throw new AppError('PROVIDER_NOT_CONFIGURED', `IMAGESEG_PROVIDER=alibaba but no credentials: ${CREDENTIALS_HINT}`, {
            details: { tool: capability.tool },
          });
        }
        return alibaba;
      },
      available: () => configured,
    };
  }
  const local = createLocalProvider({ logger });
  return {
    active: 'local',
    select(capability) {
      if (!local.supports(capability)) {
        const reason = capability.localModel
          ? `its embedded model (${capability.localModel}) is not installed (npm install without --omit=optional)`
          : 'no embedded model can serve it';
        throw new AppError('PROVIDER_NOT_CONFIGURED', `${capability.tool} runs on Alibaba Cloud only: ${reason}; ${CREDENTIALS_HINT}`, {
          details: { tool: capability.tool, provider: 'local' },
        });
      }
      return local;
    },
    available: (capability) => local.supports(capability),
  };
}
