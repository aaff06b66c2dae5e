import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';

const CLI = path.resolve('dist/cli.js');

/** A live `imageseg-mcp http` process in a working directory of its own, as a replica behind a load balancer runs. */
export interface Replica {
  url: string;
  child: ChildProcessWithoutNullStreams;
  /** Everything it logged (stderr), so far. */
  log(): string;
  /** Resolves with the exit code, or the signal that ended it. */
  exited: Promise<number | string>;
  stop(): Promise<void>;
}

export async function startReplica(environment: Record<string, string>): Promise<Replica> {
  const directory = mkdtempSync(path.join(tmpdir(), 'imageseg-replica-'));
  const child = spawn(process.execPath, [CLI, 'http', '--port', '0'], { cwd: directory, env: { PATH: process.env.PATH ?? '', HOME: directory, LOG_LEVEL: 'info', ...environment } });
  let log = '';
  child.stdout.resume();
  const exited = once(child, 'exit').then(([code, signal]) => (code ?? signal) as number | string);
  const url = await new Promise<string>((resolve, reject) => {
    child.stderr.on('data', (chunk: Buffer) => {
      log += chunk.toString();
      const found = /"url":"(http:\/\/[^"]+)"/.exec(log);
      if (found) resolve(found[1]);
    });
    void exited.then(() => reject(new Error(`replica exited at start: ${log}`)));
  });
  return {
    url,
    child,
    log: () => log,
    exited,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
      rmSync(directory, { recursive: true, force: true });
    },
  };
}

/**
 * A schema of its own in the test PostgreSQL, so this file's tokens, charges and counters are its own while other
 * suites share the database: its URL sets the search_path, and `drop` removes it.
 */
export async function isolatedPostgres(databaseUrl: string, name: string): Promise<{ url: string; drop(): Promise<void> }> {
  const schema = `${name}_${process.pid}_${Date.now().toString(36)}`;
  const admin = new pg.Client({ connectionString: databaseUrl });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${schema}`);
  await admin.end();
  const url = new URL(databaseUrl);
  url.searchParams.set('options', `-c search_path=${schema}`);
  return {
    url: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: databaseUrl });
      await client.connect();
      await client.query(`DROP SCHEMA ${schema} CASCADE`);
      await client.end();
    },
  };
}
