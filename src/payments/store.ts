/**
 * The ledger: payment tokens (by hash), reservations of token uses, charges, x402 nonces and settlements.
 * Every method is one atomic step, so a store can be SQLite (one file, WAL) or PostgreSQL (many processes) without
 * the gate knowing which. Times are milliseconds since the epoch.
 */
export interface LedgerStore extends CallRecordStore {
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
  /** Whether this authorization was ever presented and accepted here (held, settled or released). */
  nonceSeen(key: NonceKey): Promise<boolean>;
  /** Undoes a claim the facilitator refused at verification: that authorization was never accepted. */
  forgetNonce(key: NonceKey): Promise<void>;
  /** An accepted authorization whose call failed: never settled, and still never accepted again. */
  releaseNonce(key: NonceKey, now: number): Promise<void>;
  /** A settled authorization: its settlement, its charge (a call) or its token (a purchase), in one transaction. */
  recordSettlement(settlement: SettlementRecord, now: number, token?: NewToken): Promise<void>;
  /** Operator: every token (optionally of one service), oldest first, with the uses held by calls in progress. */
  listTokens(filter: { serviceId?: string; now: number }): Promise<TokenListing[]>;
  /** Operator: charges made in [from, to), counted per service, UTC day and per-call USD amount. */
  chargeTotals(range: { from: number; to: number }): Promise<ChargeTotal[]>;
  close(): Promise<void>;
}

export interface TokenListing extends TokenState {
  tokenHash: string;
}

export interface ChargeTotal {
  serviceId: string;
  /** Days since the epoch, UTC. */
  day: number;
  /** The USD amount of each of these charges, decimal. */
  usd: string;
  calls: number;
}

export const MS_PER_DAY = 86_400_000;

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

/** A token row as both stores read it (times in ms). */
export interface TokenStanding {
  serviceId: string;
  callsTotal: number;
  callsUsed: number;
  expiresAt: number | null;
  revokedAt: number | null;
}

/**
 * Why a token cannot pay one more call of `serviceId` now, before counting the uses held by calls in progress
 * (`in_use` is the stores' own step, once expired holds are cleared): one rule for every store.
 */
export function standingRefusal(token: TokenStanding | undefined, serviceId: string, now: number): TokenRefusal | undefined {
  if (!token) return 'unknown';
  if (token.revokedAt !== null) return 'revoked';
  if (token.expiresAt !== null && token.expiresAt <= now) return 'expired';
  if (token.serviceId !== serviceId) return 'wrong_service';
  if (token.callsUsed >= token.callsTotal) return 'exhausted';
  return undefined;
}

export const remainingCalls = (token: TokenState) => Math.max(0, token.callsTotal - token.callsUsed - token.callsHeld);

/** Idempotency records and asynchronous jobs: what makes one request identity run and pay once, across processes. */
export interface CallRecordStore {
  /** Inserts a running record for (scope, key), or returns the live record already there (expired ones are replaced). */
  claimIdempotencyKey(claim: IdempotencyClaim): Promise<IdempotencyRecord | undefined>;
  /** The call succeeded (or its payment is held): later claims get this answer until the record expires, never before `keepUntil`. */
  finishIdempotencyKey(scope: string, key: string, answer: string, keepUntil?: number): Promise<void>;
  /** The call failed (nothing was charged), even after its answer was recorded: the key may run again. */
  dropIdempotencyKey(scope: string, key: string): Promise<void>;
  /** An asynchronous job this server submitted, followed by the call that paid for it. */
  recordJob(job: NewJob): Promise<void>;
  findJob(jobId: string): Promise<JobRecord | undefined>;
  /** The call gave up waiting (JOB_TIMEOUT): its payment stays held, described by `hold`, until `holdUntil`. */
  holdJob(jobId: string, hold: string, holdUntil: number): Promise<void>;
  /** Ends a job's payment: committed (its result was delivered) or released; false when it was already ended. */
  closeJob(jobId: string, state: 'committed' | 'released', now: number): Promise<boolean>;
  /** Keeps a held token use beyond its lease (a timed-out job's payment); false when it is not held. */
  extendTokenUse(reservationId: string, leaseUntil: number): Promise<boolean>;
  /**
   * Deletes idempotency records past their expiry and jobs closed `ttlMs` ago (or left running by a dead process
   * that long), and expires token holds whose lease ran out (the use comes back): the rows each statement changed.
   */
  sweep(now: number, ttlMs: number): Promise<CallRecordCounts>;
  /** Held jobs whose hold has ended: their payment is to be given back. */
  endedHolds(now: number): Promise<JobRecord[]>;
  /** Rows kept now; `holds`: payments held now (token uses within their lease, x402 authorizations). */
  countRecords(now: number): Promise<CallRecordCounts>;
}

export interface CallRecordCounts {
  idempotency: number;
  jobs: number;
  holds: number;
}

export interface IdempotencyClaim {
  /** Who asks: the payer's identity (token hash, x402 payer) or "anonymous". */
  scope: string;
  key: string;
  /** Hash of the capability, transport and arguments: the same key with other arguments is a mistake. */
  fingerprint: string;
  now: number;
  /** A running record older than this belongs to a process that died: it may be taken over. */
  leaseUntil: number;
  expiresAt: number;
}

export interface IdempotencyRecord {
  fingerprint: string;
  state: 'running' | 'done';
  /** The first answer, serialised, once done. */
  answer: string | null;
}

export interface NewJob {
  jobId: string;
  serviceId: string;
  payer: string;
  now: number;
  holdUntil: number;
}

export interface JobRecord {
  jobId: string;
  serviceId: string;
  payer: string;
  state: 'running' | 'held' | 'committed' | 'released';
  /** The held payment (JSON), while state is "held". */
  hold: string | null;
  holdUntil: number;
}
