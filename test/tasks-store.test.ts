import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Request } from '@modelcontextprotocol/sdk/types.js';
import { createTaskService, type TaskRecords } from '../src/tasks/index.js';
import { openSqliteTaskRecords } from '../src/tasks/sqlite-records.js';
import { openPostgresTaskRecords } from '../src/tasks/postgres-records.js';
import { credentialOwners } from '../src/payments/index.js';

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
  it('keys a token by its hash and an x402 payment by its signature, never the secret itself', () => {
    const token = `imgseg_${randomBytes(32).toString('base64url')}`;
    const [owner] = credentialOwners({ token });
    expect(owner).toMatch(/^token:[0-9a-f]{64}$/);
    expect(owner).not.toContain(token.slice(7));
    const payload = {
      x402Version: 2,
      accepted: { scheme: 'exact', network: 'eip155:84532' },
      payload: {
        signature: `0x${'ab'.repeat(65)}`,
        authorization: { from: `0x${'1'.repeat(40)}`, to: `0x${'2'.repeat(40)}`, value: '200000', validAfter: '0', validBefore: '9999999999', nonce: `0x${'3'.repeat(64)}` },
      },
    };
    const fromObject = credentialOwners({ x402: payload });
    const fromHeader = credentialOwners({ x402: Buffer.from(JSON.stringify(payload)).toString('base64') });
    expect(fromObject).toEqual(fromHeader);
    expect(fromObject[0]).toMatch(/^x402:[0-9a-f]{64}$/);
    expect(credentialOwners({ x402: 'not a payment' })).toEqual([]);
    expect(credentialOwners({ token, x402: payload })[0]).toBe(owner);
  });
});
