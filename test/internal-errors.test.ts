import { afterEach, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

const CLI = path.resolve('dist/cli.js');
let child: ChildProcess | undefined;

afterEach(() => {
  child?.kill('SIGKILL');
  child = undefined;
});

/** The built server, on a ledger path that cannot exist (a file inside /dev/null), with its log captured. */
async function brokenLedgerServer(): Promise<{ url: string; log: () => string }> {
  let log = '';
  child = spawn(process.execPath, [CLI, 'http', '--port', '0'], {
    env: { ...process.env, DATABASE_URL: '/dev/null/ledger/imageseg.db', ADMIN_TOKEN: 'operator-secret', LOG_LEVEL: 'info', TEST_DATABASE_URL: '' },
  });
  const url = await new Promise<string>((resolve, reject) => {
    child!.stderr!.on('data', (chunk: Buffer) => {
      log += chunk.toString();
      const found = /"url":"(http:\/\/[^"]+)"/.exec(log);
      if (found) resolve(found[1]);
    });
    child!.once('exit', () => reject(new Error(`server exited: ${log}`)));
  });
  return { url, log: () => log };
}

describe('internal errors', () => {
  it('tell the client a reference, never the underlying message, and leave that message in the server log', async () => {
    const server = await brokenLedgerServer();
    const answer = await fetch(`${server.url}/api/admin/tokens`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer operator-secret' },
      body: JSON.stringify({ serviceId: 'product-background-removal' }),
    });
    expect(answer.status).toBe(500);
    const text = await answer.text();
    expect(JSON.parse(text).error.code).toBe('INTERNAL');
    expect(text).not.toMatch(/ENOTDIR|\/dev\/null/);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(server.log()).toMatch(/ENOTDIR/);
  });
});
