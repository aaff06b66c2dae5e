/**
 * Row 2: sustained paid calls per second, each with its own one-use payment token, and double-spend attempts.
 *
 * The server is the product's HTTP server with a provider that answers at once (bench/servers/), so the row
 * measures what every paid call pays for whatever its provider: Express, argument validation, the image
 * pre-check (a 16x16 PNG sent inline is still decoded), the token reservation and commit in the SQLite ledger,
 * delivery and logging. A real provider would add its own time on top; the emulator would also take a share of
 * the same two cores, and the local model runs one inference at a time. The load and the audit are
 * `lib/paid-load.ts`'s. Baseline: the same server's GET /healthz.
 */
import path from 'node:path';
import { SETTINGS } from '../settings.js';
import { mintTokens } from '../lib/ledger.js';
import { healthzLoad, paidBody, paidRows, paidRuns } from '../lib/paid-load.js';
import { ROOT, startServer } from '../lib/processes.js';
import type { RowResult } from '../lib/report.js';

const SERVICE = 'product-background-removal';

export async function measurePaidThroughput(workDirectory: string): Promise<RowResult[]> {
  const settings = SETTINGS.throughput;
  const directory = path.join(workDirectory, 'throughput');
  const databaseUrl = path.join(directory, 'ledger.db');
  const body = await paidBody();
  // The ledger exists (and is migrated) before the server opens it.
  const warmupTokens = await mintTokens(databaseUrl, SERVICE, settings.warmupTokens);
  const serverOptions = (name: string) => ({
    name,
    entry: path.join(ROOT, 'dist', 'bench', 'servers', 'stub-provider-server.js'),
    workDirectory: directory,
    environment: { PAYMENTS: 'required', DATABASE_URL: databaseUrl, IMAGESEG_PROVIDER: 'local' },
  });
  // The baseline runs on its own instance of the same server, so a --profile of the paid server shows paid calls only.
  const baselines: Array<{ rate: number; cpuMs: number }> = [];
  const bare = await startServer(serverOptions('throughput-healthz'));
  try {
    for (let run = 0; run < settings.runs; run += 1) baselines.push(await healthzLoad([bare]));
  } finally {
    await bare.stop();
  }
  const server = await startServer(serverOptions('throughput'));
  try {
    const measured = await paidRuns([server], databaseUrl, body, warmupTokens);
    return await paidRows({ row: '2', metric: 'paid calls/s, one-use tokens (REST, SQLite ledger)', target: 1500, databaseUrl, setup: 'one server, SQLite ledger' }, baselines, measured);
  } finally {
    await server.stop();
  }
}
