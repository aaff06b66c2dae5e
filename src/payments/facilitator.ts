import type { PaymentPayload, PaymentRequirements, SettleResponse, SupportedResponse } from '@x402/core/types';
import type { FacilitatorClient } from '@x402/core/http';
import { REASON, refuse, type PaymentRefusal } from './reasons.js';

/**
 * The x402 facilitator (X402_FACILITATOR_URL) through @x402/core's HTTPFacilitatorClient, which speaks the
 * facilitator HTTP API (POST /verify, POST /settle, GET /supported). Its failures become refusals that say
 * whose fault they were; none of them charges anything.
 */
export interface Facilitator {
  readonly url: string;
  /** undefined when the facilitator accepts the payment. */
  verify(payload: unknown, requirements: unknown): Promise<PaymentRefusal | undefined>;
  settle(payload: unknown, requirements: unknown): Promise<{ settlement: SettleResponse } | { refusal: PaymentRefusal }>;
  supported(): Promise<SupportedResponse>;
}

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

export function createFacilitator(options: { url: string; timeoutMs?: number }): Facilitator {
  const url = options.url.replace(/\/+$/, '');
  let client: Promise<FacilitatorClient> | undefined;
  // Loaded on the first x402 payment: start-up (stdio) stays fast when nobody pays with x402.
  const connect = () =>
    (client ??= import('@x402/core/http').then(({ HTTPFacilitatorClient }) => new HTTPFacilitatorClient({ url, timeoutMs: options.timeoutMs ?? 15_000 })));
  const unavailable = (operation: string, error: unknown) =>
    refuse(REASON.facilitatorUnavailable, `The payment facilitator could not ${operation} the payment (${messageOf(error)}); nothing was charged, retry later`, {
      retryable: true,
    });

  return {
    url,
    async verify(payload, requirements) {
      try {
        const answer = await (await connect()).verify(payload as PaymentPayload, requirements as PaymentRequirements);
        if (answer.isValid) return undefined;
        return refuse(answer.invalidReason ?? REASON.facilitatorRefused, `The payment facilitator refused the payment: ${answer.invalidMessage ?? answer.invalidReason ?? 'no reason given'}`);
      } catch (error) {
        const { VerifyError } = await import('@x402/core/types');
        if (error instanceof VerifyError && error.invalidReason) {
          return refuse(error.invalidReason, `The payment facilitator refused the payment: ${error.invalidMessage ?? error.invalidReason}`);
        }
        return unavailable('verify', error);
      }
    },
    async settle(payload, requirements) {
      try {
        const answer = await (await connect()).settle(payload as PaymentPayload, requirements as PaymentRequirements);
        if (answer.success) return { settlement: answer };
        return { refusal: settlementFailed(answer.errorReason, answer.errorMessage) };
      } catch (error) {
        const { SettleError } = await import('@x402/core/types');
        if (error instanceof SettleError && error.errorReason) return { refusal: settlementFailed(error.errorReason, error.errorMessage) };
        return {
          refusal: refuse(REASON.settlementFailed, `The payment facilitator did not confirm the settlement (${messageOf(error)}); the result is withheld and this server will not submit the authorization again`, {
            retryable: true,
            facts: { facilitatorReason: REASON.facilitatorUnavailable },
          }),
        };
      }
    },
    async supported() {
      return (await connect()).getSupported();
    },
  };
}

function settlementFailed(facilitatorReason: string | undefined, message: string | undefined): PaymentRefusal {
  return refuse(REASON.settlementFailed, `The payment facilitator could not settle the payment (${message ?? facilitatorReason ?? 'no reason given'}); nothing was charged`, {
    facts: { facilitatorReason: facilitatorReason ?? 'unknown' },
  });
}
