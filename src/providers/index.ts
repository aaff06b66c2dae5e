import { AppError } from '../errors.js';
import type { Config, ProviderName } from '../config.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import type { Capability } from '../catalog/capability.js';
import type { Provider } from './provider.js';
import { createAlibabaProvider } from './alibaba/index.js';
import { createLocalProvider } from './local/index.js';
import { createAilabtoolsProvider } from './ailabtools/index.js';
import { createAidgeProvider } from './aidge/index.js';
import { createCircuitBreaker, type CircuitBreaker } from './breaker.js';
import { createFallbackChain } from './fallback.js';

export type { Provider, ProviderCall, Progress } from './provider.js';

export interface ProviderRegistry {
  /** The configured providers in the order they are tried, joined by commas (`alibaba`, `local`, `ailabtools,alibaba`). */
  readonly active: string;
  /** The provider that serves this capability (a fallback chain when several do), or PROVIDER_NOT_CONFIGURED saying what to set. */
  select(capability: Capability): Provider;
  /** Whether a call to this capability can run as configured (for tools/list and the catalog). */
  available: (capability: Capability) => boolean;
  /** The configured providers that serve this capability, in the order they are tried (start-up log, `imageseg-mcp list`). */
  servedBy(capability: Capability): ProviderName[];
  /** Providers named in the order but left out, and what they need. */
  readonly skipped: ReadonlyArray<{ provider: ProviderName; reason: string }>;
}

const CREDENTIALS_HINT = 'set ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET';
const MISSING: Readonly<Record<Exclude<ProviderName, 'local'>, string>> = {
  alibaba: 'ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET are not set',
  ailabtools: 'AILABTOOLS_API_KEY is not set',
  aidge: 'AIDGE_APP_KEY and AIDGE_APP_SECRET are not set',
};

/** The provider of that name, or undefined when its credentials are missing. */
function buildProvider(name: ProviderName, config: Config, logger: Logger): Provider | undefined {
  const { providers } = config;
  switch (name) {
    case 'alibaba':
      return config.alibaba.accessKeyId && config.alibaba.accessKeySecret ? createAlibabaProvider(config, logger) : undefined;
    case 'local':
      return createLocalProvider({ logger, ...config.local });
    case 'ailabtools': {
      const { apiKey } = providers.ailabtools;
      return apiKey ? createAilabtoolsProvider({ settings: { ...providers.ailabtools, apiKey }, silenceMs: providers.silenceMs }) : undefined;
    }
    case 'aidge': {
      const { appKey, appSecret } = providers.aidge;
      return appKey && appSecret ? createAidgeProvider({ settings: { ...providers.aidge, appKey, appSecret }, silenceMs: providers.silenceMs, images: config.images }) : undefined;
    }
  }
}

function notConfigured(capability: Capability, order: readonly ProviderName[], configured: readonly Provider[]): AppError {
  const details = { tool: capability.tool, providers: configured.map((provider) => provider.name) };
  if (order.includes('local')) {
    const reason = capability.localModel
      ? `its embedded model (${capability.localModel}) is not installed (npm install without --omit=optional)`
      : 'no embedded model can serve it';
    return new AppError('PROVIDER_NOT_CONFIGURED', `${capability.tool} runs on Alibaba Cloud only: ${reason}; ${CREDENTIALS_HINT}`, { details: { ...details, provider: 'local' } });
  }
  if (configured.length === 0 && order.includes('alibaba')) {
    return new AppError('PROVIDER_NOT_CONFIGURED', `IMAGESEG_PROVIDER=alibaba but no credentials: ${CREDENTIALS_HINT}`, { details });
  }
  return new AppError('PROVIDER_NOT_CONFIGURED', `No configured provider (${order.join(', ')}) serves ${capability.tool}; add alibaba to IMAGESEG_PROVIDERS and ${CREDENTIALS_HINT}`, { details });
}

/**
 * The providers of `config.providers.order` that have their credentials, each with its own circuit breaker. A
 * capability only Alibaba or the embedded model serves gets it directly; otherwise a fallback chain over those that
 * serve it, in order (a chain of one peer checks the peer's own image limits and keeps its breaker).
 */
export function createProviderRegistry(config: Config, logger: Logger, metrics?: Metrics): ProviderRegistry {
  const order = [...new Set(config.providers.order)];
  const skipped: Array<{ provider: ProviderName; reason: string }> = [];
  const members: Array<{ provider: Provider; name: ProviderName; breaker: CircuitBreaker }> = [];
  for (const name of order) {
    const provider = buildProvider(name, config, logger);
    if (provider) members.push({ provider, name, breaker: createCircuitBreaker(config.providers.breaker) });
    else skipped.push({ provider: name, reason: MISSING[name as Exclude<ProviderName, 'local'>] });
  }
  const chains = new Map<string, Provider>();
  const serving = (capability: Capability) => members.filter((member) => member.provider.supports(capability));

  return {
    active: members.map((member) => member.name).join(',') || order.join(','),
    skipped,
    select(capability) {
      const candidates = serving(capability);
      if (candidates.length === 0) throw notConfigured(capability, order, members.map((member) => member.provider));
      // Alibaba or the embedded model alone are used as they are; a peer alone still needs its own limits checked.
      if (candidates.length === 1 && !candidates[0].provider.refuses) return candidates[0].provider;
      const key = candidates.map((member) => member.name).join(',');
      let chain = chains.get(key);
      if (!chain) {
        chain = createFallbackChain(candidates, { logger, ...(metrics ? { metrics } : {}) });
        chains.set(key, chain);
      }
      return chain;
    },
    available: (capability) => serving(capability).length > 0,
    servedBy: (capability) => serving(capability).map((member) => member.name),
  };
}
