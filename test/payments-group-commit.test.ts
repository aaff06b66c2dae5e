import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { openSqliteLedger } from '../src/payments/sqlite-store.js';
import { openPostgresLedger } from '../src/payments/postgres-store.js';
import { createSqliteGroupCommit } from '../src/payments/sqlite-group-commit.js';
import { generateToken, hashToken } from '../src/payments/tokens.js';
import type { LedgerStore, NewToken, TokenHold } from '../src/payments/store.js';
import { isolatedPostgres } from './support/replica.js';

const SERVICE = 'product-background-removal';
let directory: string;

beforeAll(() => {
  directory = mkdtempSync(path.join(tmpdir(), 'imageseg-group-commit-'));
});

afterAll(() => {
  rmSync(directory, { recursive: true, force: true });
});

const token = (calls: number, serviceId = SERVICE): NewToken => ({ tokenHash: hashToken(generateToken()), serviceId, calls, expiresAt: null, source: 'operator' });
const hold = (tokenHash: string, now: number, reservationId: string = randomUUID()): TokenHold => ({ reservationId, tokenHash, serviceId: SERVICE, now, leaseUntil: now + 60_000 });

/** Fisher-Yates with a fixed seed: the same interleaving on every run, replays far from and next to their first copy. */
function shuffled<T>(items: T[]): T[] {
  const copy = [...items];
  let seed = 17;
  for (let index = copy.length - 1; index > 0; index -= 1) {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
    const other = seed % (index + 1);
    [copy[index], copy[other]] = [copy[other], copy[index]];
  }
  return copy;
}

// The same promises for every store; PostgreSQL joins, in a schema of its own, when TEST_DATABASE_URL points at one.
type OpenStore = () => Promise<{ store: LedgerStore; cleanUp: () => Promise<void> }>;
const stores: Array<[string, OpenStore]> = [['SQLite', async () => ({ store: openSqliteLedger(path.join(directory, 'ledger.db')), cleanUp: async () => undefined })]];
if (process.env.TEST_DATABASE_URL) {
  stores.push([
    'PostgreSQL',
    async () => {
      const database = await isolatedPostgres(process.env.TEST_DATABASE_URL!, 'group_commit');
      return { store: await openPostgresLedger(database.url), cleanUp: () => database.drop() };
    },
  ]);
}

describe.each(stores)('the %s ledger under concurrent calls (group commit)', (_name, open) => {
  let store: LedgerStore;
  let cleanUp: () => Promise<void>;
  beforeAll(async () => {
    ({ store, cleanUp } = await open());
  });
  afterAll(async () => {
    await store?.close();
    await cleanUp?.();
  });

  it('reserves exactly one use per one-use token among concurrent first copies and replays, each caller its own answer', async () => {
    const now = Date.now();
    // Tokens whose answers differ, so a group that handed one caller another's result would be seen.
    const oneUse = Array.from({ length: 300 }, () => token(1));
    const twoUse = Array.from({ length: 20 }, () => token(2));
    const revoked = Array.from({ length: 20 }, () => token(1));
    const otherService = Array.from({ length: 20 }, () => token(1, 'product-segmentation'));
    for (const created of [...oneUse, ...twoUse, ...revoked, ...otherService]) await store.createToken(created, now);
    for (const created of revoked) await store.revokeToken(created.tokenHash, now);

    const asks = shuffled([
      ...[...oneUse, ...oneUse, ...oneUse].map((created) => ({ tokenHash: created.tokenHash, kind: 'one' as const })),
      ...[...twoUse, ...twoUse, ...twoUse].map((created) => ({ tokenHash: created.tokenHash, kind: 'two' as const })),
      ...revoked.map((created) => ({ tokenHash: created.tokenHash, kind: 'revoked' as const })),
      ...otherService.map((created) => ({ tokenHash: created.tokenHash, kind: 'otherService' as const })),
      ...Array.from({ length: 20 }, () => ({ tokenHash: hashToken(generateToken()), kind: 'unknown' as const })),
    ]);
    // All asked in one turn of the event loop: they meet in the store's group commit.
    const holds = asks.map((ask) => hold(ask.tokenHash, now));
    const outcomes = await Promise.all(holds.map((asked) => store.reserveTokenUse(asked)));

    const byToken = new Map<string, Array<string | undefined>>();
    asks.forEach((ask, index) => byToken.set(ask.tokenHash, [...(byToken.get(ask.tokenHash) ?? []), outcomes[index] ?? 'held']));
    for (const created of oneUse) expect(byToken.get(created.tokenHash)!.sort()).toEqual(['held', 'in_use', 'in_use']);
    for (const created of twoUse) expect(byToken.get(created.tokenHash)!.sort()).toEqual(['held', 'held', 'in_use']);
    asks.forEach((ask, index) => {
      if (ask.kind === 'revoked') expect(outcomes[index]).toBe('revoked');
      if (ask.kind === 'otherService') expect(outcomes[index]).toBe('wrong_service');
      if (ask.kind === 'unknown') expect(outcomes[index]).toBe('unknown');
    });

    // Every held use committed twice at once (a retried commit): one charge each, the second copy told it is gone.
    const held = holds.filter((_asked, index) => outcomes[index] === undefined);
    expect(held).toHaveLength(300 + 40);
    const commits = await Promise.all(shuffled([...held, ...held]).map((asked) => store.commitTokenUse(asked.reservationId, '0.20', now)));
    expect(commits.filter(Boolean)).toHaveLength(held.length);
    for (const created of oneUse) expect(await store.findToken(created.tokenHash, now)).toMatchObject({ callsUsed: 1, callsHeld: 0 });
    for (const created of twoUse) expect(await store.findToken(created.tokenHash, now)).toMatchObject({ callsUsed: 2, callsHeld: 0 });
    const charged = (await store.chargeTotals({ from: now - 1, to: now + 1 })).reduce((sum, total) => sum + total.calls, 0);
    expect(charged).toBe(held.length);
  });

  it('keeps the others when one write of the group fails: a reservation id used twice fails alone', async () => {
    const now = Date.now();
    const [first, second, third] = [token(1), token(1), token(1)];
    for (const created of [first, second, third]) await store.createToken(created, now);
    const reused = randomUUID();
    expect(await store.reserveTokenUse(hold(first.tokenHash, now, reused))).toBeUndefined();

    const [before, failing, after] = await Promise.allSettled([
      store.reserveTokenUse(hold(second.tokenHash, now)),
      store.reserveTokenUse(hold(third.tokenHash, now, reused)),
      store.reserveTokenUse(hold(third.tokenHash, now)),
    ]);
    expect(before).toEqual({ status: 'fulfilled', value: undefined });
    expect(failing.status).toBe('rejected');
    expect(String((failing as PromiseRejectedResult).reason)).toMatch(/UNIQUE|PRIMARY KEY|duplicate key/);
    // The failed hold is not there, so the third token's only use went to the write after it.
    expect(after).toEqual({ status: 'fulfilled', value: undefined });
    expect(await store.findToken(second.tokenHash, now)).toMatchObject({ callsHeld: 1 });
    expect(await store.findToken(third.tokenHash, now)).toMatchObject({ callsHeld: 1 });
  });
});

describe('the SQLite group commit', () => {
  const openTable = (name: string) => {
    const db = new Database(path.join(directory, `${name}.db`));
    db.pragma('journal_mode = WAL');
    db.exec('CREATE TABLE items (id INTEGER PRIMARY KEY, note TEXT)');
    return db;
  };

  it('runs the writes of one turn in one transaction and rolls back a failing one alone, partial writes included', async () => {
    const db = openTable('savepoints');
    const reader = new Database(path.join(directory, 'savepoints.db'));
    const group = createSqliteGroupCommit(db);
    const insert = db.prepare('INSERT INTO items (id, note) VALUES (?, ?)');
    const seenOutside: number[] = [];
    const seenInside: number[] = [];
    const look = () => {
      seenOutside.push(reader.prepare<[], { n: number }>("SELECT COUNT(*) AS n FROM items").get()!.n);
      seenInside.push(db.prepare<[], { n: number }>("SELECT COUNT(*) AS n FROM items").get()!.n);
    };
    const results = await Promise.allSettled([
      group.write(() => (look(), insert.run(1, 'first').changes)),
      group.write(() => {
        look();
        insert.run(2, 'written, then rolled back with its savepoint');
        return insert.run(1, 'duplicate').changes;
      }),
      group.write(() => (look(), insert.run(3, 'third').changes)),
    ]);
    expect(results.map((result) => result.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(String((results[1] as PromiseRejectedResult).reason)).toMatch(/UNIQUE|PRIMARY KEY/);
    // One transaction: another connection saw none of the group while it ran; the group saw its own earlier writes.
    expect(seenOutside).toEqual([0, 0, 0]);
    expect(seenInside).toEqual([0, 1, 1]);
    expect(db.prepare('SELECT id FROM items ORDER BY id').all()).toEqual([{ id: 1 }, { id: 3 }]);
    reader.close();
    db.close();
  });

  it('gives every writer of a group the error, and writes nothing, when the group cannot commit; the next group runs', async () => {
    const db = openTable('busy');
    db.pragma('busy_timeout = 50');
    const other = new Database(path.join(directory, 'busy.db'));
    const group = createSqliteGroupCommit(db);
    const insert = db.prepare('INSERT INTO items (id, note) VALUES (?, ?)');
    other.exec('BEGIN IMMEDIATE');
    const blocked = await Promise.allSettled([group.write(() => insert.run(1, 'a')), group.write(() => insert.run(2, 'b'))]);
    expect(blocked.map((result) => result.status)).toEqual(['rejected', 'rejected']);
    expect(String((blocked[0] as PromiseRejectedResult).reason)).toMatch(/locked|busy/i);
    other.exec('COMMIT');
    expect(await group.write(() => insert.run(3, 'c').changes)).toBe(1);
    expect(db.prepare('SELECT id FROM items').all()).toEqual([{ id: 3 }]);
    other.close();
    db.close();
  });

  it('syncs the WAL for a durable write and goes back to the usual setting', async () => {
    const db = openTable('durable');
    db.pragma('synchronous = NORMAL');
    const group = createSqliteGroupCommit(db);
    const during = await group.write(() => db.pragma('synchronous', { simple: true }), { durable: true });
    expect(during).toBe(2);
    expect(db.pragma('synchronous', { simple: true })).toBe(1);
    db.close();
  });
});
