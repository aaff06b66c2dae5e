import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { openPostgresLedger } from '../src/payments/postgres-store.js';
import { createPostgresGroupCommit } from '../src/payments/postgres-group-commit.js';
import { generateToken, hashToken } from '../src/payments/tokens.js';
import type { LedgerStore, NewToken, TokenHold } from '../src/payments/store.js';
import { isolatedPostgres } from './support/replica.js';

// The group commit on a real PostgreSQL (TEST_DATABASE_URL), in a schema of its own: faults are injected with
// triggers there, and each reservation's transaction is read back with txid_current().
const SERVICE = 'product-background-removal';
const token = (calls: number): NewToken => ({ tokenHash: hashToken(generateToken()), serviceId: SERVICE, calls, expiresAt: null, source: 'operator' });
const hold = (tokenHash: string, now: number, reservationId: string = randomUUID()): TokenHold => ({ reservationId, tokenHash, serviceId: SERVICE, now, leaseUntil: now + 60_000 });

describe.runIf(process.env.TEST_DATABASE_URL)('the PostgreSQL ledger group commit', () => {
  let database: { url: string; drop(): Promise<void> };
  let sql: pg.Pool;
  let store: LedgerStore;
  let replica: LedgerStore;

  beforeAll(async () => {
    database = await isolatedPostgres(process.env.TEST_DATABASE_URL!, 'ledger_groups');
    store = await openPostgresLedger(database.url);
    replica = await openPostgresLedger(database.url);
    sql = new pg.Pool({ connectionString: database.url, max: 2 });
    // Every reservation notes the transaction that wrote it; one whose id starts with "doomed" fails as it is written,
    // and a charge for one whose id starts with "doomed-commit" fails the COMMIT of its transaction.
    await sql.query(`
      CREATE TABLE written_by (reservation_id TEXT, transaction_id BIGINT);
      CREATE FUNCTION note_transaction() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.id LIKE 'doomed-write%' THEN RAISE EXCEPTION 'injected fault writing %', NEW.id; END IF;
        INSERT INTO written_by VALUES (NEW.id, txid_current());
        RETURN NEW;
      END $$;
      CREATE TRIGGER note_transaction BEFORE INSERT ON reservations FOR EACH ROW EXECUTE FUNCTION note_transaction();
      CREATE FUNCTION refuse_commit() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.reservation_id LIKE 'doomed-commit%' THEN RAISE EXCEPTION 'injected fault committing %', NEW.reservation_id; END IF;
        RETURN NULL;
      END $$;
      CREATE CONSTRAINT TRIGGER refuse_commit AFTER INSERT ON charges DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION refuse_commit();`);
  });

  afterAll(async () => {
    await store?.close();
    await replica?.close();
    await sql?.end();
    await database?.drop();
  });

  const transactionsOf = async (reservationIds: string[]) =>
    (await sql.query<{ writes: number }>('SELECT COUNT(*)::int AS writes FROM written_by WHERE reservation_id = ANY($1) GROUP BY transaction_id ORDER BY writes DESC', [reservationIds])).rows.map(
      (row) => row.writes,
    );
  const createTokens = async (count: number, calls = 1) => {
    const created = Array.from({ length: count }, () => token(calls));
    await Promise.all(created.map((made) => store.createToken(made, Date.now())));
    return created;
  };

  it('runs the reserves of one turn in one transaction, at most 64 writes each', async () => {
    const now = Date.now();
    const tokens = await createTokens(100);
    const first = tokens.slice(0, 40).map((made) => hold(made.tokenHash, now));
    expect(await Promise.all(first.map((asked) => store.reserveTokenUse(asked)))).toEqual(Array(40).fill(undefined));
    expect(await transactionsOf(first.map((asked) => asked.reservationId))).toEqual([40]);
    // 100 in one turn, replays of the first 40 tokens before 60 new holds: 64 writes in one group, 36 in the next.
    const replays = tokens.slice(0, 40).map((made) => hold(made.tokenHash, now));
    const fresh = tokens.slice(40).map((made) => hold(made.tokenHash, now));
    const outcomes = await Promise.all([...replays, ...fresh].map((asked) => store.reserveTokenUse(asked)));
    expect(outcomes).toEqual([...Array(40).fill('in_use'), ...Array(60).fill(undefined)]);
    expect(await transactionsOf(fresh.map((asked) => asked.reservationId))).toEqual([36, 24]);
  });

  it('fails a write alone: a reservation the database refuses is rolled back, the rest of its group commits', async () => {
    const now = Date.now();
    const tokens = await createTokens(10);
    const holds = tokens.map((made, index) => hold(made.tokenHash, now, index === 4 ? `doomed-write-${randomUUID()}` : randomUUID()));
    const outcomes = await Promise.allSettled(holds.map((asked) => store.reserveTokenUse(asked)));
    expect(outcomes[4].status).toBe('rejected');
    expect(String((outcomes[4] as PromiseRejectedResult).reason)).toMatch(/injected fault writing doomed-write/);
    expect(outcomes.filter((outcome) => outcome.status === 'fulfilled' && outcome.value === undefined)).toHaveLength(9);
    // The nine holds share one transaction; the failed write left nothing behind, so its token's use is free.
    expect(await transactionsOf(holds.map((asked) => asked.reservationId))).toEqual([9]);
    expect(await store.findToken(tokens[4].tokenHash, now)).toMatchObject({ callsUsed: 0, callsHeld: 0 });
    expect(await store.reserveTokenUse(hold(tokens[4].tokenHash, now))).toBeUndefined();
  });

  it('charges only once the group commits: a COMMIT that fails fails every write of its group, and writes nothing', async () => {
    const now = Date.now();
    const tokens = await createTokens(5);
    const holds = tokens.map((made, index) => hold(made.tokenHash, now, index === 2 ? `doomed-commit-${randomUUID()}` : randomUUID()));
    for (const asked of holds) expect(await store.reserveTokenUse(asked)).toBeUndefined();
    const commits = await Promise.allSettled(holds.map((asked) => store.commitTokenUse(asked.reservationId, '0.20', now)));
    for (const commit of commits) {
      expect(commit.status).toBe('rejected');
      expect(String((commit as PromiseRejectedResult).reason)).toMatch(/injected fault committing doomed-commit/);
    }
    for (const made of tokens) expect(await store.findToken(made.tokenHash, now)).toMatchObject({ callsUsed: 0, callsHeld: 1 });
    const charged = await sql.query('SELECT 1 FROM charges WHERE reservation_id = ANY($1)', [holds.map((asked) => asked.reservationId)]);
    expect(charged.rowCount).toBe(0);
    // The next group runs: the others commit once on their own.
    const retried = await Promise.all(holds.filter((_asked, index) => index !== 2).map((asked) => store.commitTokenUse(asked.reservationId, '0.20', now)));
    expect(retried).toEqual([true, true, true, true]);
  });

  it('lets exactly one of many concurrent reserves of a one-use token win across two ledgers, asked in opposite orders', async () => {
    const now = Date.now();
    const tokens = await createTokens(150);
    // Each ledger asks for every token twice in one turn, the replica in the opposite order: groups that locked
    // token rows in the order asked would deadlock, and a write would fail (after deadlock_timeout).
    const ours = [...tokens, ...tokens].map((made) => ({ tokenHash: made.tokenHash, asked: hold(made.tokenHash, now), by: store }));
    const theirs = [...tokens, ...tokens].reverse().map((made) => ({ tokenHash: made.tokenHash, asked: hold(made.tokenHash, now), by: replica }));
    const asks = [...ours, ...theirs];
    const outcomes = await Promise.all(asks.map(({ asked, by }) => by.reserveTokenUse(asked)));
    const winners = new Map<string, number>();
    outcomes.forEach((outcome, index) => {
      expect(outcome === undefined || outcome === 'in_use').toBe(true);
      if (outcome === undefined) winners.set(asks[index].tokenHash, (winners.get(asks[index].tokenHash) ?? 0) + 1);
    });
    expect([...winners.values()]).toEqual(Array(tokens.length).fill(1));

    // Commits (sorted under their token) and more reserves of the same tokens, crossing between the ledgers in one turn.
    const won = asks.filter((_ask, index) => outcomes[index] === undefined);
    const crossing = await Promise.all([
      ...won.map(({ asked, by }) => by.commitTokenUse(asked.reservationId, '0.20', now)),
      ...won.map(({ tokenHash, by }) => (by === store ? replica : store).reserveTokenUse(hold(tokenHash, now))),
    ]);
    expect(crossing.slice(0, won.length)).toEqual(Array(won.length).fill(true));
    expect(crossing.slice(won.length).every((outcome) => outcome === 'in_use' || outcome === 'exhausted')).toBe(true);
    for (const made of tokens) expect(await replica.findToken(made.tokenHash, now)).toMatchObject({ callsUsed: 1, callsHeld: 0 });
  });
});

describe.runIf(process.env.TEST_DATABASE_URL)('the PostgreSQL group commit', () => {
  let database: { url: string; drop(): Promise<void> };
  let pool: pg.Pool;
  const log: string[] = [];
  // The transaction-control statements sent, in order, BEGIN's SET LOCAL left out.
  const control: string[] = [];

  beforeAll(async () => {
    database = await isolatedPostgres(process.env.TEST_DATABASE_URL!, 'group_commit_core');
    pool = new pg.Pool({ connectionString: database.url, max: 4 });
    // Notes when a COMMIT has been answered, to set beside the moments each writer was answered.
    pool.on('connect', (client) => {
      const query = client.query.bind(client) as (text: string) => Promise<pg.QueryResult>;
      (client as unknown as { query: unknown }).query = (...args: Parameters<typeof client.query>) => {
        const sent = (query as (...all: unknown[]) => Promise<pg.QueryResult>)(...args);
        if (args[0] === 'COMMIT') void sent.then(() => log.push('committed'));
        if (typeof args[0] === 'string' && /^(BEGIN|ROLLBACK|RELEASE|SAVEPOINT)/.test(args[0])) control.push(args[0].replace(/ ?SET LOCAL[^;]*;/, '').trim());
        return sent;
      };
    });
    await pool.query('CREATE TABLE items (id INTEGER PRIMARY KEY, note TEXT)');
  });

  afterAll(async () => {
    await pool?.end();
    await database?.drop();
  });

  it('answers every writer only after its group committed, rolls back a failing write alone, partial writes included', async () => {
    const group = createPostgresGroupCommit(pool);
    const outside = new pg.Client({ connectionString: database.url });
    await outside.connect();
    const seenOutside: number[] = [];
    const seenInside: number[] = [];
    const look = async (client: pg.PoolClient) => {
      seenOutside.push(Number((await outside.query('SELECT COUNT(*) AS n FROM items')).rows[0].n));
      seenInside.push(Number((await client.query('SELECT COUNT(*) AS n FROM items')).rows[0].n));
    };
    const insert = (client: pg.PoolClient, id: number, note: string) => client.query('INSERT INTO items (id, note) VALUES ($1, $2)', [id, note]);
    log.length = 0;
    control.length = 0;
    const results = await Promise.allSettled(
      [
        group.write('item:a', async (client) => (await look(client), (await insert(client, 1, 'first')).rowCount)),
        group.write('item:b', async (client) => {
          await look(client);
          await insert(client, 2, 'written, then rolled back with its savepoint');
          return (await insert(client, 1, 'duplicate')).rowCount;
        }),
        group.write('item:c', async (client) => (await look(client), (await insert(client, 3, 'third')).rowCount)),
      ].map((written, index) => written.finally(() => log.push(`answered ${index}`))),
    );
    expect(results.map((result) => result.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(String((results[1] as PromiseRejectedResult).reason)).toMatch(/duplicate key/);
    // The first try, without savepoints, stops at the failing write; the second runs all three, each in a savepoint.
    expect(control).toEqual(['BEGIN;', 'ROLLBACK', 'BEGIN; SAVEPOINT write', 'RELEASE SAVEPOINT write; SAVEPOINT write', 'ROLLBACK TO SAVEPOINT write']);
    expect(seenOutside).toEqual([0, 0, 0, 0, 0]);
    expect(seenInside).toEqual([0, 1, 0, 1, 1]);
    expect(log).toEqual(['committed', 'answered 0', 'answered 1', 'answered 2']);
    expect((await pool.query('SELECT id FROM items ORDER BY id')).rows).toEqual([{ id: 1 }, { id: 3 }]);
    await outside.end();
  });

  it('sends no savepoint for a group whose writes all succeed, nor for a lone write that fails', async () => {
    const group = createPostgresGroupCommit(pool);
    const insert = (id: number) => (client: pg.PoolClient) => client.query('INSERT INTO items (id, note) VALUES ($1, $2)', [id, 'clean']).then((done) => done.rowCount);
    control.length = 0;
    expect(await Promise.all([group.write('item:d', insert(10)), group.write('item:e', insert(11)), group.write('item:f', insert(12))])).toEqual([1, 1, 1]);
    expect(control).toEqual(['BEGIN;']);
    control.length = 0;
    await expect(group.write('item:g', insert(10))).rejects.toThrow(/duplicate key/);
    expect(control).toEqual(['BEGIN;', 'ROLLBACK']);
    expect((await pool.query('SELECT id FROM items WHERE id >= 10 ORDER BY id')).rows).toEqual([{ id: 10 }, { id: 11 }, { id: 12 }]);
  });

  it('waits for the WAL flush only when the group holds money coming in', async () => {
    const group = createPostgresGroupCommit(pool);
    const setting = (client: pg.PoolClient) => client.query<{ synchronous_commit: string }>('SHOW synchronous_commit').then((shown) => shown.rows[0].synchronous_commit);
    const usual = (await pool.query<{ synchronous_commit: string }>('SHOW synchronous_commit')).rows[0].synchronous_commit;
    expect(await group.write('setting', setting)).toBe('off');
    const [plain, durable] = await Promise.all([group.write('setting', setting), group.write('setting', setting, { durable: true })]);
    expect([plain, durable]).toEqual([usual, usual]);
  });
});
