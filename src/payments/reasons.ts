/**
 * Why a payment was refused: one code per broken rule, reported in the x402 `error` field, in `details.reason`
 * and in the logs. The x402 "exact" EVM codes are the official facilitator's, so clients see the same words from
 * us and from it.
 */
export const REASON = {
  paymentRequired: 'payment_required',
  invalidPayload: 'invalid_payload',
  x402Off: 'x402_not_accepted',
  acceptedMismatch: 'invalid_accepted_requirements_mismatch',
  scheme: 'invalid_exact_evm_scheme',
  network: 'invalid_exact_evm_network_mismatch',
  signature: 'invalid_exact_evm_signature',
  recipient: 'invalid_exact_evm_recipient_mismatch',
  value: 'invalid_exact_evm_payload_authorization_value_mismatch',
  validAfter: 'invalid_exact_evm_payload_authorization_valid_after',
  validBefore: 'invalid_exact_evm_payload_authorization_valid_before',
  nonceUsed: 'invalid_exact_evm_nonce_already_used',
  facilitatorRefused: 'facilitator_refused',
  facilitatorUnavailable: 'facilitator_unavailable',
  settlementFailed: 'settlement_failed',
  tokenUnknown: 'payment_token_unknown',
  tokenRevoked: 'payment_token_revoked',
  tokenExpired: 'payment_token_expired',
  tokenWrongService: 'payment_token_wrong_service',
  tokenExhausted: 'payment_token_exhausted',
  tokenInUse: 'payment_token_in_use',
} as const;

/** A refused payment: its reason code, a sentence for people, and whether the same payment may work later. */
export interface PaymentRefusal {
  reason: string;
  message: string;
  retryable?: boolean;
  /** Extra facts for `details` (e.g. the facilitator's own reason). */
  facts?: Record<string, unknown>;
}

export const refuse = (reason: string, message: string, extra: Omit<PaymentRefusal, 'reason' | 'message'> = {}): PaymentRefusal => ({ reason, message, ...extra });
