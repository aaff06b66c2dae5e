import { PAYMENT_IDENTIFIER, declarePaymentIdentifierExtension } from '@x402/extensions/payment-identifier';
import type { PaymentRequired, PaymentRequirements, ResourceInfo } from '@x402/core/types';
import type { PaymentRequiredV1, PaymentRequirementsV1 } from '@x402/core/types';
import type { Capability, Price } from '../catalog/capability.js';
import { httpDiscoveryOf, type PurchaseKind } from '../catalog/bazaar.js';
import { multiplyDecimal, toAtomicAmount } from './amounts.js';
import { v1NetworkName } from './networks.js';

/** Where x402 payments go, as configured; `payTo` undefined means x402 is off (payment tokens still work). */
export interface X402Offer {
  payTo?: string;
  /** CAIP-2, e.g. eip155:84532. */
  network: string;
  /** The USDC contract: the EIP-712 `verifyingContract`. */
  asset: string;
  /** EIP-712 domain name and version of the asset (USDC: "USDC", "2"). */
  assetName: string;
  assetVersion: string;
  /** How long a signed authorization must stay valid: longer than the slowest call, since it settles afterwards. */
  maxTimeoutSeconds: number;
}

/** What one payment buys: one call, or a payment token worth `calls` calls. */
export interface Purchase {
  capability: Capability & { price: Price };
  kind: PurchaseKind;
  calls: number;
  /** USD, decimal string. */
  usd: string;
  resource: ResourceInfo;
}

export function purchaseOfCall(capability: Capability & { price: Price }, baseUrl: string): Purchase {
  return {
    capability,
    kind: 'call',
    calls: 1,
    usd: capability.price.amount,
    resource: { url: `${baseUrl}/api/tools/${capability.serviceId}`, description: `${capability.title}: ${capability.summary}`, mimeType: 'application/json' },
  };
}

/** A batch: `items` calls in one payment, at the price of each. */
export function purchaseOfBatch(capability: Capability & { price: Price }, items: number, baseUrl: string): Purchase {
  return {
    capability,
    kind: 'batch',
    calls: items,
    usd: multiplyDecimal(capability.price.amount, items),
    resource: { url: `${baseUrl}/api/batch/${capability.serviceId}`, description: `${items} call(s) of ${capability.title} in one batch`, mimeType: 'application/json' },
  };
}

/** A payment token worth the service's calls per payment, or a bundle of `calls` calls at the price of each. */
export function purchaseOfToken(capability: Capability & { price: Price }, baseUrl: string, calls = capability.price.maxCallsPerPayment): Purchase {
  return {
    capability,
    kind: 'token',
    calls,
    usd: multiplyDecimal(capability.price.amount, calls),
    resource: {
      url: `${baseUrl}/api/payments`,
      description: `Payment token for ${capability.serviceId}: ${calls} call(s) of ${capability.title}`,
      mimeType: 'application/json',
    },
  };
}

/** The one x402 requirement this server offers for a purchase (v2 shape); undefined while x402 is off. */
export function requirementOf(offer: X402Offer, purchase: Purchase): PaymentRequirements | undefined {
  if (!offer.payTo) return undefined;
  return {
    scheme: 'exact',
    network: offer.network as PaymentRequirements['network'],
    asset: offer.asset,
    amount: toAtomicAmount(purchase.usd),
    payTo: offer.payTo,
    maxTimeoutSeconds: offer.maxTimeoutSeconds,
    extra: { name: offer.assetName, version: offer.assetVersion },
  };
}

/** The same requirement in x402 v1 words (maxAmountRequired, named network, resource inline). */
export function requirementV1Of(offer: X402Offer, purchase: Purchase): PaymentRequirementsV1 | undefined {
  const requirement = requirementOf(offer, purchase);
  if (!requirement) return undefined;
  return {
    scheme: requirement.scheme,
    network: v1NetworkName(requirement.network) as PaymentRequirementsV1['network'],
    maxAmountRequired: requirement.amount,
    resource: purchase.resource.url,
    description: purchase.resource.description ?? '',
    mimeType: purchase.resource.mimeType ?? 'application/json',
    outputSchema: {},
    payTo: requirement.payTo,
    maxTimeoutSeconds: requirement.maxTimeoutSeconds,
    asset: requirement.asset,
    extra: requirement.extra,
  };
}

/** Server402 details every payment-required answer carries: what is sold, for how much, and how to retry. */
export function paymentExtensions(purchase: Purchase, baseUrl: string): Record<string, unknown> {
  const { capability } = purchase;
  return {
    serviceId: capability.serviceId,
    tool: capability.tool,
    price: { ...capability.price },
    payments: {
      endpoint: `${baseUrl}/api/payments`,
      method: 'POST',
      body: { serviceId: capability.serviceId },
      callsPerToken: capability.price.maxCallsPerPayment,
    },
    // Clients may name a payment (x402's idempotency key): a retry with the same id is answered once and paid once.
    [PAYMENT_IDENTIFIER]: declarePaymentIdentifierExtension(false),
    // x402 Bazaar: how to call what is sold, so marketplaces that read 402 answers can list it.
    ...httpDiscoveryOf(capability, purchase.kind, new URL(purchase.resource.url).pathname),
    retry: [
      {
        with: 'payment-token',
        http: { header: 'X-Payment-Token' },
        mcp: { argument: 'paymentToken' },
        obtain: `POST ${baseUrl}/api/payments {"serviceId":"${capability.serviceId}"} with an x402 payment, or from the operator (imageseg-mcp tokens mint)`,
      },
      { with: 'x402', x402Version: 2, http: { header: 'PAYMENT-SIGNATURE' }, mcp: { meta: 'x402/payment' } },
      { with: 'x402', x402Version: 1, http: { header: 'X-PAYMENT' }, mcp: { meta: 'x402/payment' } },
    ],
  };
}

export type AnyPaymentRequired = PaymentRequired | (PaymentRequiredV1 & { extensions?: Record<string, unknown> });

/**
 * The x402 PaymentRequired object for a purchase. While x402 is off `accepts` is an empty array (kept, not omitted,
 * so clients that read it see "no x402 option" rather than a malformed answer); the token route in `extensions`
 * still works.
 */
export function paymentRequiredOf(offer: X402Offer, purchase: Purchase, baseUrl: string, options: { error: string; version: 1 | 2 }): AnyPaymentRequired {
  const extensions = paymentExtensions(purchase, baseUrl);
  if (options.version === 1) {
    const requirement = requirementV1Of(offer, purchase);
    return { x402Version: 1, error: options.error, accepts: requirement ? [requirement] : [], extensions };
  }
  const requirement = requirementOf(offer, purchase);
  return { x402Version: 2, error: options.error, resource: purchase.resource, accepts: requirement ? [requirement] : [], extensions };
}
