import type { SettleResponse } from '@x402/core/types';
import { AppError } from '../errors.js';
import type { Catalog } from '../catalog/lookup.js';
import type { Capability, Price } from '../catalog/capability.js';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { createX402Acceptor, createX402Settler } from './accept-x402.js';
import { paymentRequiredError, type AnswerContext } from './answers.js';
import { createFacilitator, type Facilitator } from './facilitator.js';
import { createFreeGate, createPaymentGate } from './gate.js';
import type { PaymentGate } from './types.js';
import { openLedger } from './ledger.js';
import { createIdentify, type Identify } from './who-pays.js';
import { assetDomainOf } from './networks.js';
import { presentedVersion } from './payload.js';
import { purchaseOfToken, type X402Offer } from './requirements.js';
import type { CallRecordStore, LedgerStore } from './store.js';
import { BOUGHT_TOKEN_LIFETIME_MS, hashToken, looksLikeToken, newToken } from './tokens.js';
import { listTokens, revenueReport, tokenStatusOf, type RevenueReport, type TokenStatus, type TokenSummary } from './reports.js';

/** A token as its buyer sees it, once. */
export interface IssuedToken {
  paymentToken: string;
  serviceId: string;
  callsRemaining: number;
  /** ISO date; null: never. */
  expiresAt: string | null;
}

/** Everything about money the adapters and the CLI may use; the pipeline sees only `gate`. */
export interface Payments {
  gate: PaymentGate;
  /** Who presents credentials (tasks use it to show a caller its own); see `Identify`. */
  identify: Identify;
  /** Idempotency records and asynchronous jobs, in the ledger's database (so they hold across processes). */
  records: () => Promise<CallRecordStore>;
  /** How long a call in progress holds its token use (and its idempotency key) before another process may take over. */
  leaseMs: number;
  /**
   * POST /api/payments: settle an x402 payment and issue a token worth the service's calls per payment, or a
   * bundle of `calls` (1..MAX_BUNDLE_CALLS) for that many times the price.
   */
  buyToken(serviceId: string, presented: unknown, calls?: unknown): Promise<{ token: IssuedToken; receipt: SettleResponse }>;
  /** Operator: a prepaid token (`calls` default 1; `expiresAt` ms, null or absent: never). */
  mintToken(request: { serviceId: string; calls?: number; expiresAt?: number | null }): Promise<IssuedToken>;
  describeToken(token: string): Promise<TokenStatus | undefined>;
  /** false when no such token. */
  revokeToken(token: string): Promise<boolean>;
  /** Operator: every token, or one service's, by a prefix of its hash. */
  listTokens(serviceId?: string): Promise<TokenSummary[]>;
  /** Operator: calls and USD per service and day; dates are `YYYY-MM-DD` (inclusive) or ISO instants. */
  revenue(range: { from?: string; to?: string }): Promise<RevenueReport>;
  /** Says at start what is accepted, and asks the facilitator whether it supports our network. */
  logSetup(): void;
  close(): Promise<void>;
}

export interface PaymentsOptions {
  config: Config;
  catalog: Catalog;
  logger: Logger;
  /** Tests: a store of their own, a facilitator of their own, a short lease, a clock. */
  store?: LedgerStore;
  facilitator?: Facilitator;
  leaseMs?: number;
  now?: () => number;
}

/** The most calls one bundle (POST /api/payments {"calls": N}) may buy. */
export const MAX_BUNDLE_CALLS = 1000;

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export function createPayments(options: PaymentsOptions): Payments {
  const { config, catalog, logger } = options;
  const now = options.now ?? Date.now;
  const { payTo } = config.x402;
  // A held token use outlives the slowest call (job deadline, image fetches, upstream retries) with room to spare.
  const leaseMs = options.leaseMs ?? config.jobDeadlineMs + 5 * 60_000;
  const domain = assetDomainOf(config.x402.network, config.x402.asset);
  const offer: X402Offer = {
    payTo,
    network: config.x402.network,
    asset: config.x402.asset,
    assetName: domain.name,
    assetVersion: domain.version,
    // A signed authorization must outlive the slowest call too: it is settled only after the call succeeded.
    maxTimeoutSeconds: Math.max(300, Math.ceil(config.jobDeadlineMs / 1000) + 120),
  };
  const offerContext = (): AnswerContext => ({ offer, baseUrl: config.publicBaseUrl });
  const facilitator = options.facilitator ?? createFacilitator({ url: config.x402.facilitatorUrl });
  let opened: Promise<LedgerStore> | undefined;
  const store = () =>
    (opened ??= options.store
      ? Promise.resolve(options.store)
      : openLedger(config.databaseUrl, logger).catch((error: unknown) => {
          opened = undefined;
          throw new AppError('INTERNAL', 'The payment ledger (DATABASE_URL) cannot be opened; the server log says why', { cause: error });
        }));
  const acceptX402 = createX402Acceptor({ store, facilitator, offerContext, logger, now });
  const settleX402 = createX402Settler({ store, facilitator, logger, now });
  const identify = createIdentify({ offer, store, now });
  const gate = config.payments === 'off' ? createFreeGate() : createPaymentGate({ store, acceptX402, settleX402, offerContext, identify, logger, now, leaseMs });

  function pricedCapability(serviceId: unknown): Capability & { price: Price } {
    if (typeof serviceId !== 'string' || !serviceId) throw new AppError('INVALID_ARGUMENT', 'serviceId is required, e.g. {"serviceId":"product-background-removal"}', { details: { fields: ['serviceId'] } });
    const capability = catalog.find(serviceId);
    if (!capability) throw new AppError('NOT_FOUND', `No service named "${serviceId}"; see /api/catalog/search`, { details: { serviceId } });
    if (!capability.price) throw new AppError('INVALID_ARGUMENT', `${capability.serviceId} is free: it needs no payment token`, { details: { serviceId: capability.serviceId } });
    return capability as Capability & { price: Price };
  }

  function issue(capability: Capability, calls: number, expiresAt: number | null, source: 'operator' | 'x402') {
    // Operator tokens last until their --expires, or forever.
    const { paymentToken, token } = newToken(capability.serviceId, calls, expiresAt, source);
    const issued: IssuedToken = { paymentToken, serviceId: capability.serviceId, callsRemaining: calls, expiresAt: iso(expiresAt) };
    return { token, issued };
  }

  return {
    gate,
    identify,
    records: store,
    leaseMs,
    async buyToken(serviceId, presented, calls) {
      const capability = pricedCapability(serviceId);
      if (calls !== undefined && !(Number.isInteger(calls) && (calls as number) >= 1 && (calls as number) <= MAX_BUNDLE_CALLS)) {
        throw new AppError('INVALID_ARGUMENT', `calls must be a whole number from 1 to ${MAX_BUNDLE_CALLS}, got ${JSON.stringify(calls)}`, { details: { fields: ['calls'] } });
      }
      const purchase = purchaseOfToken(capability, config.publicBaseUrl, calls as number | undefined);
      if (presented === undefined || presented === null || presented === '') throw paymentRequiredError(purchase, offerContext(), presentedVersion(presented));
      const accepted = await acceptX402(purchase, presented);
      const { token, issued } = issue(capability, purchase.calls, now() + BOUGHT_TOKEN_LIFETIME_MS, 'x402');
      try {
        const receipt = await accepted.settle(token);
        logger.info({ serviceId: capability.serviceId, calls: purchase.calls, payer: accepted.payer }, 'payment token bought');
        return { token: issued, receipt };
      } catch (error) {
        await accepted.release();
        throw error;
      }
    },
    async mintToken({ serviceId, calls = 1, expiresAt = null }) {
      const capability = pricedCapability(serviceId);
      if (!Number.isInteger(calls) || calls < 1) throw new AppError('INVALID_ARGUMENT', `calls must be a whole number of at least 1, got ${calls}`, { details: { fields: ['calls'] } });
      if (expiresAt !== null && expiresAt <= now()) throw new AppError('INVALID_ARGUMENT', `expiresAt ${iso(expiresAt)} is in the past`, { details: { fields: ['expiresAt'] } });
      const { token, issued } = issue(capability, calls, expiresAt, 'operator');
      await (await store()).createToken(token, now());
      logger.info({ serviceId: capability.serviceId, calls, expiresAt: issued.expiresAt }, 'payment token minted');
      return issued;
    },
    async describeToken(paymentToken) {
      if (!looksLikeToken(paymentToken)) return undefined;
      const state = await (await store()).findToken(hashToken(paymentToken), now());
      if (!state) return undefined;
      return tokenStatusOf(state, now());
    },
    async revokeToken(paymentToken) {
      if (!looksLikeToken(paymentToken)) return false;
      const revoked = await (await store()).revokeToken(hashToken(paymentToken), now());
      if (revoked) logger.info({ token: hashToken(paymentToken).slice(0, 12) }, 'payment token revoked');
      return revoked;
    },
    async listTokens(serviceId) {
      return listTokens(await store(), serviceId, now());
    },
    async revenue(range) {
      return revenueReport(await store(), range, now());
    },
    logSetup() {
      if (config.payments === 'off') return;
      if (!offer.payTo) {
        logger.warn('x402 payments are off until a pay-to address is set (X402_PAY_TO); unpaid calls get 402 with the payment-token route, and operator-minted tokens work');
        return;
      }
      logger.info({ payTo: offer.payTo, network: offer.network, asset: offer.asset, facilitator: facilitator.url }, 'x402 payments accepted');
      if (domain.knownUsdc === false) logger.warn({ network: offer.network, asset: offer.asset }, 'X402_ASSET is not the USDC contract of X402_NETWORK; check both');
      facilitator.supported().then(
        (supported) => {
          const kinds = supported.kinds ?? [];
          const ours = kinds.some((kind) => kind.scheme === 'exact' && kind.network === offer.network);
          if (!ours) logger.warn({ facilitator: facilitator.url, network: offer.network }, 'the x402 facilitator does not list the "exact" scheme on this network');
        },
        (error: unknown) => logger.warn({ facilitator: facilitator.url, err: (error as Error).message }, 'the x402 facilitator did not answer GET /supported'),
      );
    },
    async close() {
      if (opened && !options.store) await (await opened.catch(() => undefined))?.close();
      opened = undefined;
    },
  };
}
