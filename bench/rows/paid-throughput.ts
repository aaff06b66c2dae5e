/**
 * Row 2: sustained paid calls per second, each with its own one-use payment token, and double-spend attempts.
 *
 * The server is the product's HTTP server with a provider that answers at once (bench/servers/), so the row
 * measures what every paid call pays for whatever its provider: Express, argument validation, the image
 * pre-check (a 16x16 PNG sent inline is still decoded), the token reservation and commit in the SQLite ledger,
 * delivery and logging. A real provider would add its own time on top; the emulator would also take a share of
 * the same two cores, and the local model runs one inference at a time.
 *
 * Load: autocannon against REST POST /api/tools/<id> with `connections` concurrent connections. Every
 * `replayEvery`-th token is presented twice at once (the second copy goes out on another connection straight
 * after the first): exactly one of the two may succeed. Baseline: the same server's GET /healthz.
 */
import path from 'node:path';
import autocannon from 'autocannon';
import sharp from 'sharp';
import { SETTINGS } from '../settings.js';
import { mintTokens, openPayments } from '../lib/ledger.js';
import { ROOT, startServer, type ServerProcess } from '../lib/processes.js';
import { median } from '../lib/stats.js';
import type { RowResult } from '../lib/report.js';

const SERVICE = 'product-background-removal';

interface PaidRun {
  successes: number;
  seconds: number;
  /** Requests that went out without a token because the minted pool ran dry (the run is then too short on tokens). */
  dry: number;
  statuses: Map<string, number[]>;
  unexpected: Map<number, number>;
}

async function paidLoad(server: ServerProcess, body: string, tokens: string[], durationMs: number): Promise<PaidRun> {
  const { connections, replayEvery } = SETTINGS.throughput;
  const presentations: string[] = [];
  tokens.forEach((token, index) => {
    presentations.push(token);
    if (index % replayEvery === 0) presentations.push(token);
  });
  let cursor = 0;
  let dry = 0;
  const statuses = new Map<string, number[]>();
  const unexpected = new Map<number, number>();
  const result = await autocannon({
    url: server.url,
    connections,
    duration: durationMs / 1000,
    timeout: 30,
    requests: [
      {
        method: 'POST',
        path: `/api/tools/${SERVICE}`,
        headers: { 'content-type': 'application/json' },
        body,
        setupRequest(request, context) {
          const token = presentations[cursor++];
          context.token = token;
          if (!token) dry += 1;
          return { ...request, headers: { 'content-type': 'application/json', ...(token ? { 'x-payment-token': token } : {}) } };
        },
        onResponse(status, _body, context) {
          const token = context.token as string | undefined;
          if (token) {
            const seen = statuses.get(token) ?? [];
            seen.push(status);
            statuses.set(token, seen);
          }
          if (status !== 200 && status !== 402) unexpected.set(status, (unexpected.get(status) ?? 0) + 1);
        },
      },
    ],
  });
  let successes = 0;
  for (const seen of statuses.values()) successes += seen.filter((status) => status === 200).length;
  return { successes, seconds: result.duration, dry, statuses, unexpected };
}

export async function measurePaidThroughput(workDirectory: string): Promise<RowResult[]> {
  const settings = SETTINGS.throughput;
  const directory = path.join(workDirectory, 'throughput');
  const databaseUrl = path.join(directory, 'ledger.db');
  const tiny = await sharp({ create: { width: 16, height: 16, channels: 3, background: '#c03020' } }).png().toBuffer();
  const body = JSON.stringify({ ImageURL: `data:image/png;base64,${tiny.toString('base64')}` });
  // The ledger exists (and is migrated) before the server opens it.
  const warmupTokens = await mintTokens(databaseUrl, SERVICE, 4_000);
  const serverOptions = (name: string) => ({
    name,
    entry: path.join(ROOT, 'dist', 'bench', 'servers', 'stub-provider-server.js'),
    workDirectory: directory,
    environment: { PAYMENTS: 'required', DATABASE_URL: databaseUrl, IMAGESEG_PROVIDER: 'local' },
  });
  // The baseline runs on its own instance of the same server, so a --profile of the paid server shows paid calls only.
  const baselineRates: number[] = [];
  const bare = await startServer(serverOptions('throughput-healthz'));
  try {
    for (let run = 0; run < settings.runs; run += 1) {
      const result = await autocannon({ url: `${bare.url}/healthz`, connections: settings.connections, duration: settings.baselineRunMs / 1000 });
      baselineRates.push(result['2xx'] / result.duration);
    }
  } finally {
    await bare.stop();
  }
  const server = await startServer(serverOptions('throughput'));
  try {

    const warmup = await paidLoad(server, body, warmupTokens, settings.warmupMs);
    const estimate = warmup.successes / warmup.seconds;
    const runs: PaidRun[] = [];
    for (let run = 0; run < settings.runs; run += 1) {
      const count = Math.ceil((estimate * settings.runMs * settings.tokenHeadroom) / 1000) + 200;
      runs.push(await paidLoad(server, body, await mintTokens(databaseUrl, SERVICE, count), settings.runMs));
    }

    // Audit: no token may have succeeded twice, in the answers or in the ledger.
    const payments = openPayments(databaseUrl);
    let doubleInAnswers = 0;
    let overspentInLedger = 0;
    let observed = 0;
    let charged = 0;
    let replayRefusals = 0;
    try {
      for (const run of [warmup, ...runs]) {
        for (const [token, seen] of run.statuses) {
          const successes = seen.filter((status) => status === 200).length;
          if (successes > 1) doubleInAnswers += 1;
          replayRefusals += seen.filter((status) => status === 402).length;
          observed += successes;
          const state = await payments.describeToken(token);
          if (state && state.callsUsed > state.callsTotal) overspentInLedger += 1;
          charged += state?.callsUsed ?? 0;
        }
      }
    } finally {
      await payments.close();
    }
    const dry = runs.reduce((sum, run) => sum + run.dry, 0);
    const unexpected = runs.flatMap((run) => [...run.unexpected.entries()].map(([status, count]) => `${count}× HTTP ${status}`));
    const rate = median(runs.map((run) => run.successes / run.seconds));
    const baseline = median(baselineRates);
    const doubleSpends = doubleInAnswers + overspentInLedger;
    const notes = [
      `${settings.connections} connections, ${settings.runs} runs × ${settings.runMs / 1000} s after a ${settings.warmupMs / 1000} s warm-up; provider: bench stub`,
      `${observed} paid answers, ${charged} uses charged in the ledger, ${replayRefusals} replays refused`,
      ...(dry ? [`${dry} requests went out without a token (pool ran dry)`] : []),
      ...(unexpected.length ? [`unexpected answers: ${unexpected.join(', ')}`] : []),
    ];
    return [
      {
        row: '2',
        metric: 'paid calls/s, one-use tokens (REST, SQLite ledger)',
        ours: rate,
        unit: '/s',
        baseline: { label: 'GET /healthz, same server code', value: baseline },
        ratio: rate / baseline,
        target: { text: '≥ 1,500/s', met: rate >= 1500 },
        note: notes.join('; '),
      },
      {
        row: '2',
        metric: '  double spends seen (answers + ledger)',
        ours: doubleSpends,
        unit: '',
        target: { text: '0', met: doubleSpends === 0 },
        note: `${doubleInAnswers} tokens answered 200 twice, ${overspentInLedger} tokens with more uses than bought; ${warmup.statuses.size + runs.reduce((sum, run) => sum + run.statuses.size, 0)} tokens presented`,
      },
    ];
  } finally {
    await server.stop();
  }
}
