import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Request } from '@modelcontextprotocol/sdk/types.js';
import { createTaskService, type TaskRecords } from '../src/tasks/index.js';
import { openSqliteTaskRecords } from '../src/tasks/sqlite-records.js';
import { openPostgresTaskRecords } from '../src/tasks/postgres-records.js';
import { Wallet } from 'ethers';
import type { PaymentRequirements } from '@x402/core/types';
import { createIdentify, type Identify } from '../src/payments/who-pays.js';
import { openLedger } from '../src/payments/ledger.js';
import type { LedgerStore } from '../src/payments/store.js';
import { createPayer, toHeader } from './support/payments.js';

const directory = mkdtempSync(path.join(tmpdir(), 'imageseg-task-store-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

// The same promises hold for every store; PostgreSQL joins when TEST_DATABASE_URL points at one.
const stores: Array<[string, () => Promise<TaskRecords>]> = [['SQLite', async () => openSqliteTaskRecords(path.join(directory, 'tasks.db'))]];
if (process.env.TEST_DATABASE_URL) stores.push(['PostgreSQL', () => openPostgresTaskRecords(process.env.TEST_DATABASE_URL!)]);

const plainCall: Request = { method: 'tools/call', params: { name: 'hd_general_segmentation' } };
const taskCall: Request = { method: 'tools/call', params: { name: 'hd_general_segmentation', task: {} } };
const someone = () => `token:${randomBytes(32).toString('hex')}`;

describe.each(stores)('tasks in %s', (_name, open) => {
  let clock = Date.now();
  const service = () => createTaskService({ open, now: () => clock, watchMs: 60_000 });

  it('shows a paid task to its payer and its connection, and answers everyone else as for an unknown id', async () => {
    const tasks = service();
    const [payer, stranger] = [someone(), someone()];
    const creating = tasks.storeFor({ owners: [payer] });
    const task = await creating.createTask({ ttl: 60_000, pollInterval: 100, context: { owner: payer } }, 1, plainCall);
    expect(task).toMatchObject({ status: 'working', ttl: 60_000, pollInterval: 100 });
    expect((await tasks.storeFor({ owners: [payer] }).getTask(task.taskId))?.taskId).toBe(task.taskId);
    expect((await tasks.storeFor({ owners: [payer] }).listTasks()).tasks.map((listed) => listed.taskId)).toEqual([task.taskId]);
    for (const other of [tasks.storeFor({ owners: [stranger] }), tasks.storeFor({ owners: [] })]) {
      expect(await other.getTask(task.taskId)).toBeNull();
      expect((await other.listTasks()).tasks).toEqual([]);
      await expect(other.getTaskResult(task.taskId)).rejects.toThrow(`Task with ID ${task.taskId} not found`);
      await expect(other.updateTaskStatus(task.taskId, 'cancelled')).rejects.toThrow(`Task with ID ${task.taskId} not found`);
      await expect(other.storeTaskResult(task.taskId, 'completed', {})).rejects.toThrow(`Task with ID ${task.taskId} not found`);
    }
    await tasks.close();
  });

  it('lets anyone with a free task\'s id reach it, and lists it only to the connection that made it', async () => {
    const tasks = service();
    const creating = tasks.storeFor({ owners: [] });
    const task = await creating.createTask({ ttl: 60_000 }, 1, plainCall);
    expect((await creating.listTasks()).tasks.map((listed) => listed.taskId)).toEqual([task.taskId]);
    const other = tasks.storeFor({ owners: [] });
    expect((await other.getTask(task.taskId))?.status).toBe('working');
    expect((await other.listTasks()).tasks).toEqual([]);
    await tasks.close();
  });

  it('keeps a result once, and the result of a run cancelled before it stopped', async () => {
    const tasks = service();
    const store = tasks.storeFor({ owners: [] });
    const done = await store.createTask({ ttl: 60_000 }, 1, plainCall);
    await store.storeTaskResult(done.taskId, 'completed', { content: [{ type: 'text', text: 'ok' }] });
    expect(await store.getTaskResult(done.taskId)).toEqual({ content: [{ type: 'text', text: 'ok' }] });
    await expect(store.storeTaskResult(done.taskId, 'failed', {})).rejects.toThrow(/terminal status 'completed'/);
    await expect(store.updateTaskStatus(done.taskId, 'cancelled')).rejects.toThrow(/terminal status 'completed'/);

    const cancelled = await store.createTask({ ttl: 60_000 }, 2, plainCall);
    await expect(store.getTaskResult(cancelled.taskId)).rejects.toThrow(/has no result/);
    await store.updateTaskStatus(cancelled.taskId, 'cancelled', 'Client cancelled task execution.');
    await store.storeTaskResult(cancelled.taskId, 'failed', { isError: true, content: [] });
    expect(await store.getTask(cancelled.taskId)).toMatchObject({ status: 'cancelled', statusMessage: 'Client cancelled task execution.' });
    expect(await store.getTaskResult(cancelled.taskId)).toEqual({ isError: true, content: [] });
    await tasks.close();
  });

  it('forgets a task when its ttl has run out, counted again from its end', async () => {
    const tasks = service();
    const store = tasks.storeFor({ owners: [] });
    const task = await store.createTask({ ttl: 1000 }, 1, plainCall);
    clock += 900;
    await store.storeTaskResult(task.taskId, 'completed', {});
    clock += 900;
    expect((await store.getTask(task.taskId))?.status).toBe('completed');
    clock += 200;
    expect(await store.getTask(task.taskId)).toBeNull();
    expect((await store.listTasks()).tasks).toEqual([]);
    await tasks.close();
  });

  it('caps the ttl a client asks for, so every task is cleaned up', async () => {
    const tasks = createTaskService({ open, now: () => clock, maxTtlMs: 5000 });
    const store = tasks.storeFor({ owners: [] });
    expect((await store.createTask({ ttl: null }, 1, plainCall)).ttl).toBe(5000);
    expect((await store.createTask({ ttl: 10 ** 9 }, 2, plainCall)).ttl).toBe(5000);
    await tasks.close();
  });

  it('pages tasks/list with an opaque cursor and refuses a forged one', async () => {
    const tasks = service();
    const owner = someone();
    const created: string[] = [];
    for (let index = 0; index < 55; index++) {
      created.push((await tasks.storeFor({ owners: [owner] }).createTask({ ttl: 60_000, context: { owner } }, index, plainCall)).taskId);
      clock += 1;
    }
    const reader = tasks.storeFor({ owners: [owner] });
    const first = await reader.listTasks();
    expect(first.tasks).toHaveLength(50);
    expect(first.nextCursor).toBeTruthy();
    const second = await reader.listTasks(first.nextCursor);
    expect(second.nextCursor).toBeUndefined();
    expect([...first.tasks, ...second.tasks].map((task) => task.taskId)).toEqual(created);
    await expect(reader.listTasks('not-a-cursor')).rejects.toThrow(/Invalid cursor/);
    await tasks.close();
  });

  it('tells a task-aware call from a plain one, and aborts a run of this process on tasks/cancel at once', async () => {
    const tasks = service();
    const store = tasks.storeFor({ owners: [] });
    const plain = await store.createTask({}, 1, plainCall);
    const augmented = await store.createTask({}, 2, taskCall);
    expect(store.outlivesRequest(plain.taskId)).toBe(false);
    expect(store.outlivesRequest(augmented.taskId)).toBe(true);
    const run = new AbortController();
    const stop = tasks.watchRun(augmented.taskId, run);
    await tasks.storeFor({ owners: [] }).updateTaskStatus(augmented.taskId, 'cancelled');
    expect(run.signal.aborted).toBe(true);
    stop();
    await tasks.close();
  });

  it('sees a cancel another process stored, within the watch period', async () => {
    const here = createTaskService({ open, now: () => clock, watchMs: 20 });
    const elsewhere = createTaskService({ open, now: () => clock });
    const task = await here.storeFor({ owners: [] }).createTask({ ttl: 60_000 }, 1, taskCall);
    const run = new AbortController();
    const stop = here.watchRun(task.taskId, run);
    await elsewhere.storeFor({ owners: [] }).updateTaskStatus(task.taskId, 'cancelled');
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(run.signal.aborted).toBe(true);
    stop();
    await Promise.all([here.close(), elsewhere.close()]);
  });
});

describe('who owns what', () => {
  const asset = '0x036CbD53842c5426634e7929541eC2318f3dCF7e';
  const offer = { payTo: new Wallet(Wallet.createRandom().privateKey).address, network: 'eip155:84532', asset, assetName: 'USDC', assetVersion: '2', maxTimeoutSeconds: 300 };
  const requirement = { scheme: 'exact', network: 'eip155:84532', asset, amount: '200000', payTo: offer.payTo, maxTimeoutSeconds: 300, extra: { name: 'USDC', version: '2' } } as PaymentRequirements;
  let ledger: LedgerStore;
  let identify: Identify;
  beforeAll(async () => {
    ledger = await openLedger(path.join(directory, 'identity.db'));
    identify = createIdentify({ offer, store: async () => ledger, now: Date.now });
  });
  afterAll(() => ledger.close());

  it('keys a token by its hash and an x402 payer by the address its signature recovers to, never the secret itself', async () => {
    const token = `imgseg_${randomBytes(32).toString('base64url')}`;
    const owner = await identify({ token });
    expect(owner).toMatch(/^token:[0-9a-f]{64}$/);
    expect(owner).not.toContain(token.slice(7));
    const payer = createPayer();
    const payload = await payer.payExactly(requirement);
    expect(await identify({ x402: payload })).toBe(`x402:${payer.address.toLowerCase()}`);
    expect(await identify({ x402: toHeader(payload) })).toBe(`x402:${payer.address.toLowerCase()}`);
    expect(await identify({ token, x402: payload })).toBe(owner);
    expect(await identify({})).toBeUndefined();
    expect(await identify({ x402: 'not a payment' })).toMatchObject({ reason: 'invalid_payload' });
  });

  it("refuses a payload signed by someone else that carries a victim's address", async () => {
    const [victim, forger] = [createPayer(), createPayer()];
    const forged = await forger.payExactly(requirement);
    (forged.payload as { authorization: { from: string } }).authorization.from = victim.address;
    expect(await identify({ x402: forged })).toMatchObject({ reason: 'invalid_exact_evm_signature' });
    expect(await identify({ x402: toHeader(forged) }, { fresh: true })).toMatchObject({ reason: 'invalid_exact_evm_signature' });
  });

  it('opens what was paid before only with a payload never presented here and still valid', async () => {
    const payer = createPayer();
    const payload = await payer.payExactly(requirement);
    expect(await identify({ x402: payload }, { fresh: true })).toBe(`x402:${payer.address.toLowerCase()}`);
    const { authorization } = payload.payload as { authorization: { nonce: string } };
    await ledger.claimNonce({ network: offer.network, asset: asset.toLowerCase(), payer: payer.address.toLowerCase(), nonce: authorization.nonce.toLowerCase() }, 'product-background-removal', Date.now());
    // Settled payloads are public on-chain: as proof of who is asking, a presented one counts no more.
    expect(await identify({ x402: payload }, { fresh: true })).toMatchObject({ reason: 'invalid_exact_evm_nonce_already_used' });
    expect(await identify({ x402: payload })).toBe(`x402:${payer.address.toLowerCase()}`);
    const expired = await payer.payExactly({ ...requirement, maxTimeoutSeconds: -60 });
    expect(await identify({ x402: expired }, { fresh: true })).toMatchObject({ reason: 'invalid_exact_evm_payload_authorization_valid_before' });
  });
});
