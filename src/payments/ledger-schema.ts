/** The ledger's tables, one definition for both stores; only the integer column types differ by dialect. */
const TYPES = {
  sqlite: { bigint: 'INTEGER', serial: 'INTEGER PRIMARY KEY AUTOINCREMENT' },
  postgres: { bigint: 'BIGINT', serial: 'BIGSERIAL PRIMARY KEY' },
} as const;

export function ledgerSchema(dialect: keyof typeof TYPES): string {
  const types = TYPES[dialect];
  return `
CREATE TABLE IF NOT EXISTS payment_tokens (
  token_hash  TEXT PRIMARY KEY,
  service_id  TEXT NOT NULL,
  calls_total INTEGER NOT NULL,
  calls_used  INTEGER NOT NULL DEFAULT 0,
  expires_at  ${types.bigint},
  revoked_at  ${types.bigint},
  created_at  ${types.bigint} NOT NULL,
  source      TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS reservations (
  id          TEXT PRIMARY KEY,
  token_hash  TEXT NOT NULL REFERENCES payment_tokens(token_hash),
  service_id  TEXT NOT NULL,
  state       TEXT NOT NULL CHECK (state IN ('held', 'committed', 'released', 'expired')),
  lease_until ${types.bigint} NOT NULL,
  created_at  ${types.bigint} NOT NULL,
  closed_at   ${types.bigint}
);
CREATE INDEX IF NOT EXISTS reservations_held ON reservations(token_hash, lease_until) WHERE state = 'held';
CREATE INDEX IF NOT EXISTS reservations_lease ON reservations(lease_until) WHERE state = 'held';
CREATE TABLE IF NOT EXISTS x402_nonces (
  network    TEXT NOT NULL,
  asset      TEXT NOT NULL,
  payer      TEXT NOT NULL,
  nonce      TEXT NOT NULL,
  state      TEXT NOT NULL CHECK (state IN ('held', 'settled', 'released')),
  service_id TEXT NOT NULL,
  created_at ${types.bigint} NOT NULL,
  updated_at ${types.bigint} NOT NULL,
  PRIMARY KEY (network, asset, payer, nonce)
);
CREATE TABLE IF NOT EXISTS settlements (
  id          ${types.serial},
  network     TEXT NOT NULL,
  asset       TEXT NOT NULL,
  payer       TEXT NOT NULL,
  nonce       TEXT NOT NULL,
  amount      TEXT NOT NULL,
  usd         TEXT NOT NULL,
  transaction_hash TEXT NOT NULL,
  service_id  TEXT NOT NULL,
  purpose     TEXT NOT NULL,
  token_hash  TEXT,
  created_at  ${types.bigint} NOT NULL
);
CREATE TABLE IF NOT EXISTS charges (
  id             ${types.serial},
  service_id     TEXT NOT NULL,
  usd            TEXT NOT NULL,
  token_hash     TEXT,
  reservation_id TEXT,
  settlement_id  ${types.bigint},
  created_at     ${types.bigint} NOT NULL
);
CREATE TABLE IF NOT EXISTS idempotency_records (
  scope       TEXT NOT NULL,
  key         TEXT NOT NULL,
  fingerprint TEXT NOT NULL,
  state       TEXT NOT NULL CHECK (state IN ('running', 'done')),
  answer      TEXT,
  lease_until ${types.bigint} NOT NULL,
  expires_at  ${types.bigint} NOT NULL,
  created_at  ${types.bigint} NOT NULL,
  PRIMARY KEY (scope, key)
);
CREATE INDEX IF NOT EXISTS idempotency_records_expiry ON idempotency_records(expires_at);
CREATE TABLE IF NOT EXISTS async_jobs (
  job_id     TEXT PRIMARY KEY,
  service_id TEXT NOT NULL,
  payer      TEXT NOT NULL,
  state      TEXT NOT NULL CHECK (state IN ('running', 'held', 'committed', 'released')),
  hold       TEXT,
  hold_until ${types.bigint} NOT NULL,
  created_at ${types.bigint} NOT NULL,
  closed_at  ${types.bigint}
);
CREATE INDEX IF NOT EXISTS async_jobs_state ON async_jobs(state, closed_at, hold_until);
`;
}
