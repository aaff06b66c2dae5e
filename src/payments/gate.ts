import { randomUUID } from 'node:crypto';
import type { Capability, Price } from '../catalog/capability.js';
import type { Logger } from '../logger.js';
import { createBatchHold } from './batch.js';
import type { BatchPayment, PaymentCredentials, PaymentGate, Reservation } from './types.js';
import type { AcceptX402, HeldX402Payment, SettleX402 } from './accept-x402.js';
import { paymentInvalidError, paymentRequiredError, type AnswerContext } from './answers.js';
import { isRefusal, presentedVersion } from './payload.js';
import { presentsX402, type Identify } from './who-pays.js';
import { AppError } from '../errors.js';
import { REASON, refuse, type PaymentRefusal } from './reasons.js';
import { purchaseOfBatch, purchaseOfCall, type Purchase } from './requirements.js';
import type { LedgerStore, TokenRefusal, TokenState } from './store.js';
import { BOUGHT_TOKEN_LIFETIME_MS, hashToken, looksLikeToken, newToken } from './tokens.js';

export const ANONYMOUS = 'anonymous';

export const nothingHeld: Reservation = {
  commit: async () => ({}),
  release: async () => undefined,
  keep: async () => JSON.stringify({ kind: 'none' }),
};

/** A batch that costs nothing: free capabilities, or PAYMENTS=off. */
export const freeBatch: BatchPayment = { itemPayment: {}, finish: async () => ({}), release: async () => undefined };

/** PAYMENTS=off: every call is free, nothing is recorded, and every caller is the same anonymous one. */
export function createFreeGate(): PaymentGate {
  return { reserve: async () => nothingHeld, reserveBatch: async () => freeBatch, resume: () => nothingHeld, identify: async () => ANONYMOUS };
}

export interface GateDependencies {
  store: () => Promise<LedgerStore>;
  acceptX402: AcceptX402;
  settleX402: SettleX402;
  offerContext: () => AnswerContext;
  identify: Identify;
  logger: Logger;
  now: () => number;
  /** How long a token use stays held for a call in progress; after it a crashed process's hold comes back. */
  leaseMs: number;
}

/** A reservation kept past its call, as stored with the job it pays for. */
type KeptPayment = { kind: 'none' } | { kind: 'token'; reservationId: string } | ({ kind: 'x402' } & HeldX402Payment);

const isPriced = (capability: Capability): capability is Capability & { price: Price } => capability.price !== null;

function explainTokenRefusal(refusal: TokenRefusal, serviceId: string, token: TokenState | undefined): PaymentRefusal {
  switch (refusal) {
    case 'unknown':
      return refuse(REASON.tokenUnknown, 'no payment token matches (tokens look like imgseg_ followed by 43 characters; check for copy errors)');
    case 'revoked':
      return refuse(REASON.tokenRevoked, 'this payment token was revoked by the operator');
    case 'expired':
      return refuse(REASON.tokenExpired, `this payment token expired${token?.expiresAt ? ` at ${new Date(token.expiresAt).toISOString()}` : ''}`);
    case 'wrong_service':
      return refuse(REASON.tokenWrongService, `this payment token pays for ${token?.serviceId ?? 'another service'}, not ${serviceId}`);
    case 'exhausted':
      return refuse(REASON.tokenExhausted, `this payment token has no calls left (${token?.callsUsed ?? 0} of ${token?.callsTotal ?? 0} used)`);
    case 'in_use':
      return refuse(REASON.tokenInUse, 'every call left on this payment token is held by a call in progress; retry when it has finished', { retryable: true });
  }
}

/**
 * PAYMENTS=required: a paid capability needs a payment token (one use reserved, committed on success, released
 * on failure) or an x402 payment (verified now, settled on success, never settled on failure). Free capabilities
 * pass. A token wins when both are presented, so one call is never paid twice.
 */
export function createPaymentGate(dependencies: GateDependencies): PaymentGate {
  const { store, acceptX402, settleX402, offerContext, identify, logger, now, leaseMs } = dependencies;

  function tokenReservation(purchase: Purchase, reservationId: string): Reservation {
    const serviceId = purchase.capability.serviceId;
    return {
      async commit() {
        const spent = await (await store()).commitTokenUse(reservationId, purchase.usd, now());
        if (!spent) logger.warn({ serviceId, reservationId }, 'the call outlived its token reservation lease: not charged');
        return {};
      },
      async release() {
        await (await store()).releaseTokenUse(reservationId, now());
      },
      async keep(until) {
        await (await store()).extendTokenUse(reservationId, until);
        return JSON.stringify({ kind: 'token', reservationId } satisfies KeptPayment);
      },
    };
  }

  async function reserveTokenUse(purchase: Purchase, token: string, version: 1 | 2): Promise<Reservation> {
    const ledger = await store();
    const serviceId = purchase.capability.serviceId;
    const reservationId = randomUUID();
    const tokenHash = hashToken(token);
    const at = now();
    const refusal = looksLikeToken(token) ? await ledger.reserveTokenUse({ reservationId, tokenHash, serviceId, now: at, leaseUntil: at + leaseMs }) : 'unknown';
    if (refusal) {
      const state = refusal === 'unknown' ? undefined : await ledger.findToken(tokenHash, at);
      const explained = explainTokenRefusal(refusal, serviceId, state);
      logger.warn({ reason: explained.reason, serviceId, token: tokenHash.slice(0, 12) }, `payment token refused: ${explained.message}`);
      throw paymentInvalidError(explained, purchase, offerContext(), version);
    }
    return tokenReservation(purchase, reservationId);
  }

  return {
    async reserve(capability: Capability, credentials: PaymentCredentials): Promise<Reservation> {
      if (!isPriced(capability)) return nothingHeld;
      const purchase = purchaseOfCall(capability, offerContext().baseUrl);
      const version = presentedVersion(credentials.x402);
      // A batch item: a token pays it use by use (committed with the batch); an x402 batch was paid as a whole.
      if (credentials.batch) return credentials.batch.defer(credentials.token ? await reserveTokenUse(purchase, credentials.token, version) : nothingHeld);
      if (credentials.token) return reserveTokenUse(purchase, credentials.token, version);
      if (!presentsX402(credentials)) throw paymentRequiredError(purchase, offerContext(), version);
      const accepted = await acceptX402(purchase, credentials.x402);
      return {
        commit: async () => ({ receipt: await accepted.settle() }),
        release: () => accepted.release(),
        keep: async () => JSON.stringify({ kind: 'x402', ...accepted.held() } satisfies KeptPayment),
      };
    },
    async reserveBatch(capability, credentials, items): Promise<BatchPayment> {
      if (!isPriced(capability)) return freeBatch;
      const hold = createBatchHold();
      if (credentials.token) {
        return {
          itemPayment: { token: credentials.token, batch: hold },
          finish: async () => (await hold.commitAll(), {}),
          release: () => hold.releaseAll(),
        };
      }
      const purchase = purchaseOfBatch(capability, items, offerContext().baseUrl);
      if (!presentsX402(credentials)) throw paymentRequiredError(purchase, offerContext(), presentedVersion(credentials.x402));
      const accepted = await acceptX402(purchase, credentials.x402);
      return {
        itemPayment: { batch: hold },
        async finish({ succeeded, failed }) {
          // Failures are never charged: nothing delivered, nothing settled; failed items come back as a token.
          if (succeeded === 0) return (await accepted.release(), {});
          const credit = failed > 0 ? newToken(capability.serviceId, failed, now() + BOUGHT_TOKEN_LIFETIME_MS, 'x402') : undefined;
          const receipt = await accepted.settle(credit?.token);
          if (credit) logger.info({ serviceId: capability.serviceId, calls: failed, payer: accepted.payer }, 'batch credit token issued for failed items');
          return { receipt, ...(credit ? { credit: { paymentToken: credit.paymentToken, calls: failed } } : {}) };
        },
        release: () => accepted.release(),
      };
    },
    resume(capability, kept) {
      const payment = JSON.parse(kept) as KeptPayment;
      if (payment.kind === 'none' || !isPriced(capability)) return nothingHeld;
      const purchase = purchaseOfCall(capability, offerContext().baseUrl);
      if (payment.kind === 'token') return tokenReservation(purchase, payment.reservationId);
      const refused = (refusal: PaymentRefusal) => paymentInvalidError(refusal, purchase, offerContext(), payment.raw.x402Version === 1 ? 1 : 2);
      return {
        commit: async () => ({ receipt: await settleX402(payment, refused) }),
        release: async () => (await store()).releaseNonce(payment.nonce, now()),
        keep: async () => kept,
      };
    },
    async identify(capability, credentials, options) {
      const identity = await identify(credentials, options);
      if (!isRefusal(identity)) return identity ?? ANONYMOUS;
      logger.warn({ reason: identity.reason, serviceId: capability.serviceId }, `x402 payload refused as proof of identity: ${identity.message}`);
      if (isPriced(capability)) throw paymentInvalidError(identity, purchaseOfCall(capability, offerContext().baseUrl), offerContext(), presentedVersion(credentials.x402));
      throw new AppError('UNAUTHORIZED', `The x402 payload does not show who you are (${identity.reason}): ${identity.message}. Nothing was charged`, { details: { reason: identity.reason } });
    },
  };
}
