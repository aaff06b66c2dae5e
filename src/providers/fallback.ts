import { AppError, toAppError, type ErrorCode } from '../errors.js';
import type { ProviderName } from '../config.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import type { CircuitBreaker } from './breaker.js';
import type { Provider, ProviderCall } from './provider.js';
import type { ProviderResult } from '../results/types.js';

/**
 * The provider's trouble, not the caller's: throttling, outages, timeouts (UPSTREAM_ERROR), credentials it refused.
 * Anything else (the user's bad input, a content-risk refusal, a job that failed or outlived its deadline and keeps
 * its payment) is the answer, given as it is.
 */
const FALLS_OVER: ReadonlySet<ErrorCode> = new Set(['UPSTREAM_THROTTLED', 'UPSTREAM_ERROR', 'PROVIDER_NOT_CONFIGURED']);

export interface ChainMember {
  name: ProviderName;
  provider: Provider;
  breaker: CircuitBreaker;
}

export interface FallbackOptions {
  logger: Logger;
  metrics?: Metrics;
}

function circuitOpen(members: ChainMember[], tool: string): AppError {
  const retryAfterSeconds = Math.min(...members.map((member) => member.breaker.secondsUntilProbe()));
  return new AppError('UPSTREAM_ERROR', `Every provider for ${tool} is failing (circuit open: ${members.map((member) => member.name).join(', ')}); try again shortly`, {
    retryable: true,
    retryAfterSeconds,
    details: { providers: members.map((member) => member.name), circuitOpen: true },
  });
}

/**
 * Several providers behind one: each call goes to the first that can take it and whose circuit is closed, and on
 * the provider's own trouble to the next. The pipeline sees one provider; `ProviderResult.provider` names who served.
 */
export function createFallbackChain(members: ChainMember[], options: FallbackOptions): Provider {
  const { logger, metrics } = options;
  return {
    name: members.map((member) => member.name).join(','),
    supports: (capability) => members.some((member) => member.provider.supports(capability)),
    async run(call: ProviderCall): Promise<ProviderResult> {
      const { tool } = call.capability;
      const record = (provider: string, outcome: string) => metrics?.recordProviderCall({ tool, provider, outcome });
      const refusals: string[] = [];
      const open: ChainMember[] = [];
      let lastError: AppError | undefined;
      for (const member of members.filter((candidate) => candidate.provider.supports(call.capability))) {
        const { name } = member;
        const refusal = member.provider.refuses?.(call);
        if (refusal) {
          refusals.push(refusal);
          record(name, 'skipped');
          continue;
        }
        if (!member.breaker.tryAcquire()) {
          open.push(member);
          record(name, 'circuit_open');
          metrics?.recordFallback({ tool, provider: name, reason: 'circuit_open' });
          continue;
        }
        try {
          const result = await member.provider.run(call);
          member.breaker.succeeded();
          record(name, 'ok');
          return { ...result, provider: result.provider ?? name };
        } catch (error) {
          if (call.signal?.aborted) {
            member.breaker.abandoned();
            throw error;
          }
          const appError = toAppError(error);
          record(name, appError.code);
          if (!FALLS_OVER.has(appError.code)) {
            member.breaker.succeeded();
            throw appError;
          }
          member.breaker.failed();
          metrics?.recordFallback({ tool, provider: name, reason: appError.code });
          logger.warn({ tool, provider: name, code: appError.code, err: appError.message, breaker: member.breaker.state }, 'provider failed; trying the next one');
          lastError = appError;
        }
      }
      if (lastError) throw lastError;
      if (open.length > 0) throw circuitOpen(open, tool);
      throw new AppError('IMAGE_INVALID', `No configured provider accepts this image: ${refusals.join('; ')}`, { details: { tool } });
    },
  };
}
