import type { AppContext } from './app.js';
import { describeLocalModels } from './providers/local/index.js';

/** One place that tells the operator, at start, what this process can and cannot do. */
export function logStartup(context: AppContext): void {
  const { config, logger, catalog, providers } = context;
  const available = catalog.capabilities.filter((capability) => providers.available(capability)).map((capability) => capability.tool);
  if (providers.active === 'local') {
    for (const model of describeLocalModels()) {
      logger.info({ model: model.model, available: model.available }, `local model ${model.model}: ${model.detail}`);
    }
    logger.info(
      { tools: available },
      `embedded provider: ${available.length} of ${catalog.capabilities.length} tools run locally; set ALIBABA_CLOUD_ACCESS_KEY_ID/SECRET for the rest`,
    );
  } else {
    logger.info({ endpoint: config.alibaba.endpoint, protocol: config.alibaba.protocol }, 'provider: Alibaba Cloud imageseg');
  }
  logProviders(context);
  if (config.payments === 'off') logger.warn('PAYMENTS=off: every call is free');
  context.payments.logSetup();
}

/** Which provider serves which tool, in the order they are tried, and which named providers were left out. */
function logProviders(context: AppContext): void {
  const { logger, catalog, providers } = context;
  for (const { provider, reason } of providers.skipped) logger.warn({ provider }, `provider ${provider} skipped: ${reason}`);
  const serving = new Map<string, string[]>();
  for (const capability of catalog.capabilities) {
    const chain = providers.servedBy(capability).join(' > ') || 'none';
    serving.set(chain, [...(serving.get(chain) ?? []), capability.tool]);
  }
  for (const [chain, tools] of serving) logger.info({ providers: chain, tools }, `served by ${chain}: ${tools.join(', ')}`);
}
