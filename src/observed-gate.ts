import type { Capability } from './catalog/capability.js';
import { toAppError } from './errors.js';
import type { Metrics, PaymentMethod } from './metrics.js';
import { nothingHeld, presentsX402, type PaymentCredentials, type PaymentGate, type Reservation } from './payments/index.js';

/** The one the gate itself uses: a token wins when both are presented. */
const methodOf = (credentials: PaymentCredentials): PaymentMethod => (credentials.token ? 'token' : presentsX402(credentials) ? 'x402' : 'none');

/**
 * The payment gate as Prometheus sees it: every reservation, commit (with its revenue), release and refusal, and how
 * many reservations this process holds right now. Free calls are not payments and are not counted.
 */
export function observedGate(gate: PaymentGate, metrics: Metrics): PaymentGate {
  function observe(reservation: Reservation, method: PaymentMethod, capability: Capability): Reservation {
    if (reservation === nothingHeld || !capability.price) return reservation;
    metrics.changeOutstanding(1);
    let open = true;
    const end = (outcome: string) => {
      metrics.recordPayment({ method, outcome });
      if (open) metrics.changeOutstanding(-1);
      open = false;
    };
    return {
      async commit() {
        const committed = await reservation.commit();
        end('committed');
        metrics.recordRevenue(capability.serviceId, capability.price!.amount);
        return committed;
      },
      async release() {
        await reservation.release();
        end('released');
      },
      async keep(until) {
        const kept = await reservation.keep(until);
        end('kept');
        return kept;
      },
    };
  }

  return {
    async reserve(capability, credentials) {
      const method = methodOf(credentials);
      try {
        const reservation = await gate.reserve(capability, credentials);
        if (capability.price) metrics.recordPayment({ method, outcome: 'reserved' });
        return observe(reservation, method, capability);
      } catch (error) {
        metrics.recordPayment({ method, outcome: toAppError(error).code.toLowerCase() });
        throw error;
      }
    },
    // Token-paid items reserve through `reserve` above and are counted there; an x402 batch's one settlement is not.
    reserveBatch: (capability, credentials, items) => gate.reserveBatch(capability, credentials, items),
    resume: (capability, kept) => observe(gate.resume(capability, kept), (JSON.parse(kept) as { kind: string }).kind === 'token' ? 'token' : 'x402', capability),
    identify: (capability, credentials, options) => gate.identify(capability, credentials, options),
  };
}
