/**
 * The ledger: payment tokens (by hash), reservations of token uses, charges, x402 nonces and settlements.
 * Every method is one atomic step, so a store can be SQLite (one file, WAL) or PostgreSQL (many processes) without
 * the gate knowing which. Times are milliseconds since the epoch.
 */
export interface LedgerStore {
  createToken(token: NewToken, now: number): Promise<void>;
  /** undefined when no token has this hash. */
  findToken(tokenHash: string, now: number): Promise<TokenState | undefined>;
  /** false when no token has this hash. */
  revokeToken(tokenHash: string, now: number): Promise<boolean>;
  /** Holds one use of a token for one call until `leaseUntil`; says why not when it cannot. */
  reserveTokenUse(hold: TokenHold): Promise<TokenRefusal | undefined>;
  /** Spends a held use and records the charge; false when the hold is gone (released, or its lease ran out). */
  commitTokenUse(reservationId: string, usd: string, now: number): Promise<boolean>;
  /** Gives a held use back; false when it was not held. */
  releaseTokenUse(reservationId: string, now: number): Promise<boolean>;
  /** Records an x402 authorization as seen; false when its (network, asset, payer, nonce) was seen before, ever. */
  claimNonce(key: NonceKey, serviceId: string, now: number): Promise<boolean>;
  /** Undoes a claim the facilitator refused at verification: that authorization was never accepted. */
  forgetNonce(key: NonceKey): Promise<void>;
  /** An accepted authorization whose call failed: never settled, and still never accepted again. */
  releaseNonce(key: NonceKey, now: number): Promise<void>;
  /** A settled authorization: its settlement, its charge (a call) or its token (a purchase), in one transaction. */
  recordSettlement(settlement: SettlementRecord, now: number, token?: NewToken): Promise<void>;
  close(): Promise<void>;
}

export interface NewToken {
  tokenHash: string;
  serviceId: string;
  calls: number;
  /** null: never expires. */
  expiresAt: number | null;
  source: 'operator' | 'x402';
}

export interface TokenState {
  serviceId: string;
  callsTotal: number;
  callsUsed: number;
  /** Uses held by calls in progress whose lease has not run out. */
  callsHeld: number;
  expiresAt: number | null;
  revokedAt: number | null;
  createdAt: number;
  source: 'operator' | 'x402';
}

export interface TokenHold {
  reservationId: string;
  tokenHash: string;
  serviceId: string;
  now: number;
  /** After this a crashed process's hold no longer counts and the use comes back. */
  leaseUntil: number;
}

export type TokenRefusal = 'unknown' | 'revoked' | 'expired' | 'wrong_service' | 'exhausted' | 'in_use';

/** EIP-3009 nonces are per token contract and payer; addresses are lower-cased. */
export interface NonceKey {
  network: string;
  asset: string;
  payer: string;
  nonce: string;
}

export interface SettlementRecord {
  nonce: NonceKey;
  serviceId: string;
  /** Atomic units of the asset. */
  amount: string;
  /** The same in USD, decimal. */
  usd: string;
  transaction: string;
  purpose: 'call' | 'token';
}

export const remainingCalls = (token: TokenState) => Math.max(0, token.callsTotal - token.callsUsed - token.callsHeld);
