/**
 * Row 2a: paid calls per second with one-use tokens on two replicas that share one PostgreSQL ledger, behind a
 * round-robin client (autocannon spreads its connections over both), with the double-spend attempts and the exact
 * ledger audit of row 2 (`lib/paid-load.ts`). A replayed token's two copies often reach different replicas, so
 * exactly one of them winning is the ledger's doing, not one process's.
 *
 * Needs BENCH_DATABASE_URL=postgres://…: the row works in a schema of its own there and drops it afterwards.
 * Baseline: GET /healthz of the same two servers, round-robin.
 */
import path from 'node:path';
import { SETTINGS } from '../settings.js';
import { mintTokens } from '../lib/ledger.js';
import { healthzLoad, paidBody, paidRows, paidRuns } from '../lib/paid-load.js';
import { ROOT, startServer, type ServerProcess } from '../lib/processes.js';
import type { RowResult } from '../lib/report.js';
import { isolatedPostgres } from '../../test/support/replica.js';

const SERVICE = 'product-background-removal';
const TITLE = 'paid calls/s, one-use tokens, 2 replicas on one PostgreSQL (REST, round-robin)';

export async function measureReplicaThroughput(workDirectory: string): Promise<RowResult[]> {
  const postgres = process.env.BENCH_DATABASE_URL;
  if (!postgres) return [{ row: '2a', metric: TITLE, pending: 'set BENCH_DATABASE_URL=postgres://… to run it' }];
  const database = await isolatedPostgres(postgres, 'bench_replicas');
  const servers: ServerProcess[] = [];
  try {
    const body = await paidBody();
    // The tables exist before the replicas open them.
    const warmupTokens = await mintTokens(database.url, SERVICE, SETTINGS.throughput.warmupTokens);
    for (const name of ['replica-a', 'replica-b']) {
      servers.push(
        await startServer({
          name,
          entry: path.join(ROOT, 'dist', 'bench', 'servers', 'stub-provider-server.js'),
          workDirectory: path.join(workDirectory, 'replicas', name),
          environment: { PAYMENTS: 'required', DATABASE_URL: database.url, IMAGESEG_PROVIDER: 'local' },
        }),
      );
    }
    const baselines: Array<{ rate: number; cpuMs: number }> = [];
    for (let run = 0; run < SETTINGS.throughput.runs; run += 1) baselines.push(await healthzLoad(servers));
    const measured = await paidRuns(servers, database.url, body, warmupTokens);
    return await paidRows({ row: '2a', metric: TITLE, target: 1200, databaseUrl: database.url, setup: '2 replicas, one PostgreSQL ledger' }, baselines, measured);
  } finally {
    await Promise.all(servers.map((server) => server.stop()));
    await database.drop();
  }
}
