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
 * after the first): exactly one of the two may succeed. Each run sends a fixed set of presentations and waits for
 * every answer, so the audit is exact: every minted token is read back from the ledger, and the uses charged must
 * equal the 200 answers. Baseline: the same server's GET /healthz.
 */
import path from 'node:path';
import autocannon from 'autocannon';
import sharp from 'sharp';
import { SETTINGS } from '../settings.js';
import { mintTokens, openPayments } from '../lib/ledger.js';
import { cpuSecondsOf, ROOT, startServer, type ServerProcess } from '../lib/processes.js';
import { median } from '../lib/stats.js';
import type { RowResult } from '../lib/report.js';

const SERVICE = 'product-background-removal';

interface PaidRun {
  successes: number;
  seconds: number;
  /** Every token minted for the run, presented or not: the audit reads each one's uses in the ledger. */
  tokens: string[];
  /** Requests answered without a token (the minted pool ran dry): none when every presentation was sent. */
  dry: number;
  statuses: Map<string, number[]>;
  unexpected: Map<number, number>;
  /** Requests that got no answer (timeouts, connection errors): the audit can only be exact without them. */
  unanswered: number;
  /** The server's CPU time per answered request (paid calls and refused replays): steadier than rates on a shared machine. */
  cpuMsPerRequest: number;
}

/**
 * Presents every token (and every replay) once and waits for every answer: a fixed amount of requests rather than a
 * duration, so no call is still in flight, committed but uncounted, when the run ends.
 */
async function paidLoad(server: ServerProcess, body: string, tokens: string[]): Promise<PaidRun> {
  const { connections, replayEvery } = SETTINGS.throughput;
  const presentations: string[] = [];
  tokens.forEach((token, index) => {
    presentations.push(token);
    if (index % replayEvery === 0) presentations.push(token);
  });
  let cursor = 0;
  let dry = 0;
  const cpuBefore = cpuSecondsOf(server.child.pid!);
  const statuses = new Map<string, number[]>();
  const unexpected = new Map<number, number>();
  const result = await autocannon({
    url: server.url,
    connections,
    amount: presentations.length,
    timeout: 30,
    requests: [
      {
        method: 'POST',
        path: `/api/tools/${SERVICE}`,
        headers: { 'content-type': 'application/json' },
        body,
        setupRequest(request, context) {
          // Each connection builds one request more than it sends (after its last answer): that one finds no token.
          const token = presentations[cursor++];
          context.token = token;
          return { ...request, headers: { 'content-type': 'application/json', ...(token ? { 'x-payment-token': token } : {}) } };
        },
        onResponse(status, _body, context) {
          const token = context.token as string | undefined;
          if (token) {
            const seen = statuses.get(token) ?? [];
            seen.push(status);
            statuses.set(token, seen);
          } else dry += 1;
          if (status !== 200 && status !== 402) unexpected.set(status, (unexpected.get(status) ?? 0) + 1);
        },
      },
    ],
  });
  let successes = 0;
  for (const seen of statuses.values()) successes += seen.filter((status) => status === 200).length;
  const cpuMsPerRequest = ((cpuSecondsOf(server.child.pid!) - cpuBefore) * 1000) / presentations.length;
  return { successes, seconds: result.duration, tokens, dry, statuses, unexpected, unanswered: result.errors + result.timeouts, cpuMsPerRequest };
}

export async function measurePaidThroughput(workDirectory: string): Promise<RowResult[]> {
  const settings = SETTINGS.throughput;
  const directory = path.join(workDirectory, 'throughput');
  const databaseUrl = path.join(directory, 'ledger.db');
  const tiny = await sharp({ create: { width: 16, height: 16, channels: 3, background: '#c03020' } }).png().toBuffer();
  const body = JSON.stringify({ ImageURL: `data:image/png;base64,${tiny.toString('base64')}` });
  // The ledger exists (and is migrated) before the server opens it.
  const warmupTokens = await mintTokens(databaseUrl, SERVICE, settings.warmupTokens);
  const serverOptions = (name: string) => ({
    name,
    entry: path.join(ROOT, 'dist', 'bench', 'servers', 'stub-provider-server.js'),
    workDirectory: directory,
    environment: { PAYMENTS: 'required', DATABASE_URL: databaseUrl, IMAGESEG_PROVIDER: 'local' },
  });
  // The baseline runs on its own instance of the same server, so a --profile of the paid server shows paid calls only.
  const baselineRates: number[] = [];
  const baselineCpuMs: number[] = [];
  const bare = await startServer(serverOptions('throughput-healthz'));
  try {
    for (let run = 0; run < settings.runs; run += 1) {
      const cpuBefore = cpuSecondsOf(bare.child.pid!);
      const result = await autocannon({ url: `${bare.url}/healthz`, connections: settings.connections, duration: settings.baselineRunMs / 1000 });
      baselineRates.push(result['2xx'] / result.duration);
      baselineCpuMs.push(((cpuSecondsOf(bare.child.pid!) - cpuBefore) * 1000) / result.requests.total);
    }
  } finally {
    await bare.stop();
  }
  const server = await startServer(serverOptions('throughput'));
  try {

    const warmup = await paidLoad(server, body, warmupTokens);
    // Each run gets the tokens for about runMs at the rate of the run before it.
    let recentRate = warmup.successes / warmup.seconds;
    const runs: PaidRun[] = [];
    for (let run = 0; run < settings.runs; run += 1) {
      const count = Math.max(settings.connections * 4, Math.ceil((recentRate * settings.runMs) / 1000));
      const done = await paidLoad(server, body, await mintTokens(databaseUrl, SERVICE, count));
      recentRate = done.successes / done.seconds;
      runs.push(done);
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
        for (const token of run.tokens) {
          const seen = run.statuses.get(token) ?? [];
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
    const unanswered = [warmup, ...runs].reduce((sum, run) => sum + run.unanswered, 0);
    const rate = median(runs.map((run) => run.successes / run.seconds));
    const baseline = median(baselineRates);
    const doubleSpends = doubleInAnswers + overspentInLedger;
    const notes = [
      `${settings.connections} connections, ${settings.runs} runs of ~${settings.runMs / 1000} s (${runs.map((run) => run.seconds.toFixed(1)).join(', ')} s) after a warm-up of ${warmupTokens.length} tokens; provider: bench stub`,
      `${observed} paid answers, ${charged} uses charged in the ledger, ${replayRefusals} replays refused`,
      `server CPU per request ${median(runs.map((run) => run.cpuMsPerRequest)).toFixed(3)} ms (paid calls and refused replays; runs ${runs.map((run) => run.cpuMsPerRequest.toFixed(3)).join(', ')}), per GET /healthz ${median(baselineCpuMs).toFixed(3)} ms`,
      ...(dry ? [`${dry} requests went out without a token (pool ran dry)`] : []),
      ...(unanswered ? [`${unanswered} requests got no answer (timeouts, connection errors)`] : []),
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
      {
        row: '2',
        metric: '  uses charged − paid answers (ledger audit)',
        ours: charged - observed,
        unit: '',
        target: { text: '0', met: charged === observed && unanswered === 0 },
        note: `every minted token read back: ${charged} uses charged, ${observed} answered 200; the load waits for every answer before the audit`,
      },
    ];
  } finally {
    await server.stop();
  }
}
