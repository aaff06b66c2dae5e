import type { SettleResponse } from '@x402/core/types';
import type { Logger } from '../logger.js';
import type { Facilitator } from './facilitator.js';
import { decodePayment, isRefusal, presentedVersion } from './payload.js';
import { requirementOf, requirementV1Of, type Purchase } from './requirements.js';
import { REASON, refuse, type PaymentRefusal } from './reasons.js';
import { paymentInvalidError, type AnswerContext } from './answers.js';
import type { LedgerStore, NewToken, NonceKey } from './store.js';
import { verifyExactPayment } from './verify.js';

/** An x402 payment that passed every rule and the facilitator's verification, not yet settled. */
export interface AcceptedPayment {
  payer: string;
  version: 1 | 2;
  /** Settles through the facilitator and records it (with the bought token, for a purchase); PAYMENT_INVALID if it fails. */
  settle(token?: NewToken): Promise<SettleResponse>;
  /** The call failed: the payment is never settled, and its authorization is never accepted again. */
  release(): Promise<void>;
}

export interface X402Dependencies {
  store: () => Promise<LedgerStore>;
  facilitator: Facilitator;
  answers: () => AnswerContext;
  logger: Logger;
  now: () => number;
}

export type AcceptX402 = (purchase: Purchase, presented: unknown) => Promise<AcceptedPayment>;

/**
 * Accepting an x402 payment: our own checks first (shape, every rule of the exact scheme, nonce never seen), so
 * a bad or replayed payment never reaches the facilitator; then the facilitator's verification.
 */
export function createX402Acceptor(dependencies: X402Dependencies): AcceptX402 {
  const { store, facilitator, answers, logger, now } = dependencies;

  return async (purchase, presented) => {
    const version = presentedVersion(presented);
    const context = answers();
    const serviceId = purchase.capability.serviceId;
    const refused = (refusal: PaymentRefusal, payer?: string) => {
      logger.warn({ reason: refusal.reason, serviceId, payer, x402Version: version }, `x402 payment refused: ${refusal.message}`);
      return paymentInvalidError(refusal, purchase, context, version);
    };

    const requirement = requirementOf(context.offer, purchase);
    if (!requirement) {
      throw refused(refuse(REASON.x402Off, 'this server accepts no x402 payments until its operator sets X402_PAY_TO; use a payment token'));
    }
    const payment = decodePayment(presented);
    if (isRefusal(payment)) throw refused(payment);
    const payer = payment.authorization.from;
    const broken = await verifyExactPayment(payment, requirement, Math.floor(now() / 1000));
    if (broken) throw refused(broken, payer);

    const ledger = await store();
    const key: NonceKey = {
      network: requirement.network,
      asset: requirement.asset.toLowerCase(),
      payer: payer.toLowerCase(),
      nonce: payment.authorization.nonce.toLowerCase(),
    };
    if (!(await ledger.claimNonce(key, serviceId, now()))) {
      throw refused(refuse(REASON.nonceUsed, 'this authorization (payer, nonce) was presented before and is accepted once only; sign a new one'), payer);
    }
    const facilitatorRequirement = payment.version === 1 ? requirementV1Of(context.offer, purchase) : requirement;
    const facilitatorRefusal = await facilitator.verify(payment.raw, facilitatorRequirement).catch(async (error: unknown) => {
      await ledger.forgetNonce(key);
      throw error;
    });
    if (facilitatorRefusal) {
      // Never accepted, so the payer may present it again (e.g. after a facilitator outage).
      await ledger.forgetNonce(key);
      throw refused(facilitatorRefusal, payer);
    }

    return {
      payer,
      version: payment.version,
      async settle(token) {
        const outcome = await facilitator.settle(payment.raw, facilitatorRequirement);
        if ('refusal' in outcome) throw refused(outcome.refusal, payer);
        const settlement = outcome.settlement;
        try {
          await ledger.recordSettlement(
            { nonce: key, serviceId, amount: requirement.amount, usd: purchase.usd, transaction: settlement.transaction, purpose: token ? 'token' : 'call' },
            now(),
            token,
          );
        } catch (error) {
          // The money moved; losing the record must not lose the evidence.
          logger.error({ err: error, serviceId, payer, nonce: key.nonce, transaction: settlement.transaction, tokenBought: Boolean(token) }, 'x402 settled but the ledger could not record it');
          if (token) throw error;
        }
        logger.info({ serviceId, payer, transaction: settlement.transaction, purpose: token ? 'token' : 'call', usd: purchase.usd }, 'x402 payment settled');
        return settlement;
      },
      async release() {
        await ledger.releaseNonce(key, now());
      },
    };
  };
}
