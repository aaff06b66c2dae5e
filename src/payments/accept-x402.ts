import type { PaymentPayload, PaymentPayloadV1, PaymentRequirements, PaymentRequirementsV1, SettleResponse } from '@x402/core/types';
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
  /** What settling it later needs, in any process (a job that outlived the call's deadline). */
  held(): HeldX402Payment;
}

/** An accepted, unsettled x402 payment as plain data. */
export interface HeldX402Payment {
  raw: PaymentPayload | PaymentPayloadV1;
  requirement: PaymentRequirements | PaymentRequirementsV1;
  nonce: NonceKey;
  serviceId: string;
  amount: string;
  usd: string;
  payer: string;
}

export interface X402Dependencies {
  store: () => Promise<LedgerStore>;
  facilitator: Facilitator;
  offerContext: () => AnswerContext;
  logger: Logger;
  now: () => number;
}

export type AcceptX402 = (purchase: Purchase, presented: unknown) => Promise<AcceptedPayment>;

/** Settles a held payment through the facilitator and records it; the refusal is PAYMENT_INVALID. */
export type SettleX402 = (held: HeldX402Payment, refused: (refusal: PaymentRefusal) => Error, token?: NewToken) => Promise<SettleResponse>;

export function createX402Settler(dependencies: Omit<X402Dependencies, 'offerContext'>): SettleX402 {
  const { store, facilitator, logger, now } = dependencies;
  return async (held, refused, token) => {
    const { serviceId, payer } = held;
    const outcome = await facilitator.settle(held.raw, held.requirement);
    if ('refusal' in outcome) throw refused(outcome.refusal);
    const settlement = outcome.settlement;
    try {
      await (await store()).recordSettlement(
        { nonce: held.nonce, serviceId, amount: held.amount, usd: held.usd, transaction: settlement.transaction, purpose: token ? 'token' : 'call' },
        now(),
        token,
      );
    } catch (error) {
      // The money moved; losing the record must not lose the evidence.
      logger.error({ err: error, serviceId, payer, nonce: held.nonce.nonce, transaction: settlement.transaction, tokenBought: Boolean(token) }, 'x402 settled but the ledger could not record it');
      if (token) throw error;
    }
    logger.info({ serviceId, payer, transaction: settlement.transaction, purpose: token ? 'token' : 'call', usd: held.usd }, 'x402 payment settled');
    return settlement;
  };
}

const sameText = (left: unknown, right: unknown) => typeof left === 'string' && typeof right === 'string' && left.toLowerCase() === right.toLowerCase();

/** A v2 payload names the requirement it pays (`accepted`); it must be one this server offered, field for field. */
function acceptedMismatch(raw: Record<string, unknown>, requirement: PaymentRequirements): PaymentRefusal | undefined {
  const accepted = raw.accepted as Record<string, unknown>;
  const differing = (['scheme', 'network', 'asset', 'amount', 'payTo'] as const).filter((field) => !sameText(accepted[field], requirement[field]));
  if (differing.length === 0) return undefined;
  return refuse(REASON.acceptedMismatch, `The payment's "accepted" requirement differs from the offered one in ${differing.join(', ')}; pay one of the requirements in "accepts"`, {
    facts: { fields: differing },
  });
}

/**
 * Accepting an x402 payment: our own checks first (shape, every rule of the exact scheme, nonce never seen), so
 * a bad or replayed payment never reaches the facilitator; then the facilitator's verification.
 */
export function createX402Acceptor(dependencies: X402Dependencies): AcceptX402 {
  const { store, facilitator, offerContext, logger, now } = dependencies;
  const settle = createX402Settler(dependencies);

  return async (purchase, presented) => {
    const version = presentedVersion(presented);
    const context = offerContext();
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
    const mismatch = payment.version === 2 ? acceptedMismatch(payment.raw, requirement) : undefined;
    if (mismatch) throw refused(mismatch, payer);
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
    // requirementV1Of is defined whenever requirementOf is (both need X402_PAY_TO).
    const facilitatorRequirement = payment.version === 1 ? requirementV1Of(context.offer, purchase)! : requirement;
    const facilitatorRefusal = await facilitator.verify(payment.raw, facilitatorRequirement).catch(async (error: unknown) => {
      await ledger.forgetNonce(key);
      throw error;
    });
    if (facilitatorRefusal) {
      // Never accepted, so the payer may present it again (e.g. after a facilitator outage).
      await ledger.forgetNonce(key);
      throw refused(facilitatorRefusal, payer);
    }

    const held: HeldX402Payment = { raw: payment.raw, requirement: facilitatorRequirement, nonce: key, serviceId, amount: requirement.amount, usd: purchase.usd, payer };
    return {
      payer,
      version: payment.version,
      settle: (token) => settle(held, (refusal) => refused(refusal, payer), token),
      async release() {
        await ledger.releaseNonce(key, now());
      },
      held: () => held,
    };
  };
}
