import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { randomBytes, randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openSqliteLedger } from '../src/payments/sqlite-store.js';
import { openPostgresLedger } from '../src/payments/postgres-store.js';
import { openLedger } from '../src/payments/ledger.js';
import { generateToken, hashToken, parseExpiry } from '../src/payments/tokens.js';
import { multiplyDecimal, toAtomicAmount } from '../src/payments/amounts.js';
import type { LedgerStore, NewToken, NonceKey } from '../src/payments/store.js';

const SERVICE = 'product-background-removal';
const COMPILED_STORE = path.resolve('dist/src/payments/sqlite-store.js');
let directory: string;

beforeAll(() => {
  directory = mkdtempSync(path.join(tmpdir(), 'imageseg-ledger-'));
});

afterAll(() => {
  rmSync(directory, { recursive: true, force: true });
});

const newToken = (calls = 1, serviceId = SERVICE): NewToken => ({ tokenHash: hashToken(generateToken()), serviceId, calls, expiresAt: null, source: 'operator' });
const newNonce = (): NonceKey => ({ network: 'eip155:84532', asset: '0xasset', payer: `0x${randomBytes(20).toString('hex')}`, nonce: `0x${randomBytes(32).toString('hex')}` });
const hold = (tokenHash: string, now = Date.now(), leaseMs = 60_000, serviceId = SERVICE) => ({ reservationId: randomUUID(), tokenHash, serviceId, now, leaseUntil: now + leaseMs });

// The same promises hold for every store; PostgreSQL joins when TEST_DATABASE_URL points at one.
const stores: Array<[string, () => Promise<LedgerStore>]> = [['SQLite', async () => openSqliteLedger(path.join(directory, `contract-${randomUUID()}.db`))]];
if (process.env.TEST_DATABASE_URL) stores.push(['PostgreSQL', () => openPostgresLedger(process.env.TEST_DATABASE_URL!)]);

describe.each(stores)('the %s ledger', (_name, open) => {
  let store: LedgerStore;
  beforeAll(async () => {
    store = await open();
  });
  afterAll(async () => {
    await store?.close();
  });

  it('holds exactly one use of a one-call token among 100 concurrent reservations', async () => {
    const token = newToken(1);
    await store.createToken(token, Date.now());
    const outcomes = await Promise.all(Array.from({ length: 100 }, () => store.reserveTokenUse(hold(token.tokenHash))));
    expect(outcomes.filter((outcome) => outcome === undefined)).toHaveLength(1);
    expect(outcomes.filter((outcome) => outcome === 'in_use')).toHaveLength(99);
  });

  it('spends a held use once, and gives a released one back', async () => {
    const token = newToken(2);
    await store.createToken(token, Date.now());
    const first = hold(token.tokenHash);
    const second = hold(token.tokenHash);
    expect(await store.reserveTokenUse(first)).toBeUndefined();
    expect(await store.reserveTokenUse(second)).toBeUndefined();
    expect(await store.reserveTokenUse(hold(token.tokenHash))).toBe('in_use');
    expect(await store.commitTokenUse(first.reservationId, '0.20', Date.now())).toBe(true);
    expect(await store.commitTokenUse(first.reservationId, '0.20', Date.now())).toBe(false);
    expect(await store.releaseTokenUse(second.reservationId, Date.now())).toBe(true);
    expect(await store.commitTokenUse(second.reservationId, '0.20', Date.now())).toBe(false);
    expect(await store.findToken(token.tokenHash, Date.now())).toMatchObject({ callsTotal: 2, callsUsed: 1, callsHeld: 0 });
    const last = hold(token.tokenHash);
    expect(await store.reserveTokenUse(last)).toBeUndefined();
    expect(await store.commitTokenUse(last.reservationId, '0.20', Date.now())).toBe(true);
    expect(await store.reserveTokenUse(hold(token.tokenHash))).toBe('exhausted');
  });

  it('says why a token cannot pay: unknown, revoked, expired, another service', async () => {
    const now = Date.now();
    expect(await store.reserveTokenUse(hold(hashToken(generateToken())))).toBe('unknown');
    const revoked = newToken();
    await store.createToken(revoked, now);
    expect(await store.revokeToken(revoked.tokenHash, now)).toBe(true);
    expect(await store.reserveTokenUse(hold(revoked.tokenHash))).toBe('revoked');
    const expiring = { ...newToken(), expiresAt: now + 1000 };
    await store.createToken(expiring, now);
    expect(await store.reserveTokenUse(hold(expiring.tokenHash, now + 999))).toBeUndefined();
    expect(await store.reserveTokenUse(hold(expiring.tokenHash, now + 1000))).toBe('expired');
    const other = newToken(1, 'mask-refinement');
    await store.createToken(other, now);
    expect(await store.reserveTokenUse(hold(other.tokenHash))).toBe('wrong_service');
  });

  it('gives a use back when its lease runs out, and then never charges the late call', async () => {
    const token = newToken(1);
    const now = Date.now();
    await store.createToken(token, now);
    const stale = hold(token.tokenHash, now, 1000);
    expect(await store.reserveTokenUse(stale)).toBeUndefined();
    expect(await store.reserveTokenUse(hold(token.tokenHash, now + 999))).toBe('in_use');
    const fresh = hold(token.tokenHash, now + 1000);
    expect(await store.reserveTokenUse(fresh)).toBeUndefined();
    expect(await store.commitTokenUse(stale.reservationId, '0.20', now + 2000)).toBe(false);
    expect(await store.commitTokenUse(fresh.reservationId, '0.20', now + 2000)).toBe(true);
    expect(await store.findToken(token.tokenHash, now + 2000)).toMatchObject({ callsUsed: 1, callsHeld: 0 });
  });

  it('accepts an x402 nonce once, ever; a forgotten (never accepted) one may come again', async () => {
    const key = newNonce();
    const claims = await Promise.all(Array.from({ length: 50 }, () => store.claimNonce(key, SERVICE, Date.now())));
    expect(claims.filter(Boolean)).toHaveLength(1);
    await store.releaseNonce(key, Date.now());
    expect(await store.claimNonce(key, SERVICE, Date.now())).toBe(false);
    const refused = newNonce();
    expect(await store.claimNonce(refused, SERVICE, Date.now())).toBe(true);
    await store.forgetNonce(refused);
    expect(await store.claimNonce(refused, SERVICE, Date.now())).toBe(true);
  });

  it('records a settlement and the token it bought together', async () => {
    const key = newNonce();
    const token = { ...newToken(1), source: 'x402' as const };
    expect(await store.claimNonce(key, SERVICE, Date.now())).toBe(true);
    await store.recordSettlement({ nonce: key, serviceId: SERVICE, amount: '200000', usd: '0.20', transaction: '0xabc', purpose: 'token' }, Date.now(), token);
    expect(await store.findToken(token.tokenHash, Date.now())).toMatchObject({ serviceId: SERVICE, callsTotal: 1, source: 'x402' });
    await store.forgetNonce(key);
    expect(await store.claimNonce(key, SERVICE, Date.now())).toBe(false);
  });
});

describe('the SQLite ledger file', () => {
  it('keeps tokens only as hashes, and everything across a restart', async () => {
    const file = path.join(directory, 'restart', 'ledger.db');
    const paymentToken = generateToken();
    const first = openSqliteLedger(file);
    await first.createToken({ tokenHash: hashToken(paymentToken), serviceId: SERVICE, calls: 3, expiresAt: null, source: 'operator' }, Date.now());
    const reservation = hold(hashToken(paymentToken));
    await first.reserveTokenUse(reservation);
    await first.commitTokenUse(reservation.reservationId, '0.20', Date.now());
    await first.close();
    const bytes = readdirSync(path.dirname(file)).map((name) => readFileSync(path.join(path.dirname(file), name)).toString('latin1')).join('');
    expect(bytes).not.toContain(paymentToken);
    expect(bytes).not.toContain(paymentToken.slice(7, 30));
    const second = await openLedger(file);
    expect(await second.findToken(hashToken(paymentToken), Date.now())).toMatchObject({ callsTotal: 3, callsUsed: 1 });
    await second.close();
  });

  it('gives back the use held by a process killed between reserve and commit, once its lease has run out', async () => {
    if (!existsSync(COMPILED_STORE)) throw new Error('dist/ is missing: run `npm run build` (npm test does)');
    const file = path.join(directory, 'crash.db');
    const store = openSqliteLedger(file);
    const token = newToken(1);
    await store.createToken(token, Date.now());
    const leaseMs = 400;
    const script = `
      const { openSqliteLedger } = await import(${JSON.stringify(COMPILED_STORE)});
      const store = openSqliteLedger(${JSON.stringify(file)});
      const now = Date.now();
      const refusal = await store.reserveTokenUse({ reservationId: 'killed', tokenHash: ${JSON.stringify(token.tokenHash)}, serviceId: ${JSON.stringify(SERVICE)}, now, leaseUntil: now + ${leaseMs} });
      process.stdout.write(refusal ?? 'held');
      setInterval(() => {}, 1000);`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    const said = await new Promise<string>((resolve, reject) => {
      child.stdout.once('data', (chunk: Buffer) => resolve(chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => reject(new Error(chunk.toString())));
    });
    expect(said).toBe('held');
    const heldAt = Date.now();
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));

    expect(await store.reserveTokenUse(hold(token.tokenHash))).toBe('in_use');
    expect(await store.findToken(token.tokenHash, Date.now())).toMatchObject({ callsUsed: 0, callsHeld: 1 });
    // The store takes the time it is told: a moment past the lease, without waiting for it.
    const afterLease = heldAt + leaseMs + 50;
    expect(await store.findToken(token.tokenHash, afterLease)).toMatchObject({ callsUsed: 0, callsHeld: 0 });
    const retry = hold(token.tokenHash, afterLease);
    expect(await store.reserveTokenUse(retry)).toBeUndefined();
    expect(await store.commitTokenUse(retry.reservationId, '0.20', afterLease)).toBe(true);
    await store.close();
  });

  it('says clearly when DATABASE_URL names a PostgreSQL it cannot reach', async () => {
    await expect(openLedger('postgres://nobody:secret@127.0.0.1:1/imageseg')).rejects.toThrow(/PostgreSQL at postgres:\/\/…@127\.0\.0\.1:1\/imageseg/);
  });
});

describe('amounts and tokens', () => {
  it('converts USD prices to USDC atomic units exactly', () => {
    expect(toAtomicAmount('0.20')).toBe('200000');
    expect(toAtomicAmount('1')).toBe('1000000');
    expect(toAtomicAmount('0.000001')).toBe('1');
    expect(() => toAtomicAmount('0.0000001')).toThrow();
    expect(multiplyDecimal('0.20', 3)).toBe('0.60');
    expect(multiplyDecimal('0.05', 1)).toBe('0.05');
  });

  it('makes 256-bit tokens and reads expiry as a date or a duration', () => {
    const token = generateToken();
    expect(Buffer.from(token.slice('imgseg_'.length), 'base64url')).toHaveLength(32);
    expect(generateToken()).not.toBe(token);
    const now = Date.UTC(2030, 0, 1);
    expect(parseExpiry('30d', now)).toBe(now + 30 * 86_400_000);
    expect(parseExpiry('90m', now)).toBe(now + 90 * 60_000);
    expect(parseExpiry('2030-02-01', now)).toBe(Date.UTC(2030, 1, 1));
    expect(() => parseExpiry('2029-01-01', now)).toThrow(/past/);
    expect(() => parseExpiry('soon', now)).toThrow();
  });
});
