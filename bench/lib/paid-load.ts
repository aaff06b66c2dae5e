/**
 * Paid load with one-use tokens against one or several servers (the product's HTTP server with the bench stub
 * provider), and the audit that reads every minted token back from the ledger.
 *
 * Load: autocannon against REST POST /api/tools/<id> with `connections` concurrent connections, spread round-robin
 * over the servers. Every `replayEvery`-th token is presented twice at once (the second copy goes out on the next
 * connection to ask, straight after the first): exactly one of the two may succeed. Each run sends a fixed set of
 * presentations and waits for every answer, so the audit is exact: the uses charged must equal the 200 answers.
 */
import autocannon from 'autocannon';
import sharp from 'sharp';
import { SETTINGS } from '../settings.js';
import { mintTokens, openPayments } from './ledger.js';
import { cpuSecondsOf, type ServerProcess } from './processes.js';
import { median } from './stats.js';
import type { RowResult } from './report.js';

const SERVICE = 'product-background-removal';

export interface PaidRun {
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
  /** The servers' CPU time per answered request (paid calls and refused replays): steadier than rates on a shared machine. */
  cpuMsPerRequest: number;
}

const serversCpuSeconds = (servers: readonly ServerProcess[]) => servers.reduce((sum, server) => sum + cpuSecondsOf(server.child.pid!), 0);

/** The request body: a 16x16 PNG sent inline (the pre-check still reads it). */
export async function paidBody(): Promise<string> {
  const tiny = await sharp({ create: { width: 16, height: 16, channels: 3, background: '#c03020' } }).png().toBuffer();
  return JSON.stringify({ ImageURL: `data:image/png;base64,${tiny.toString('base64')}` });
}

/** GET /healthz of the same servers under the same connections: the rate and the servers' CPU per request. */
export async function healthzLoad(servers: readonly ServerProcess[]): Promise<{ rate: number; cpuMs: number }> {
  const { connections, baselineRunMs } = SETTINGS.throughput;
  const cpuBefore = serversCpuSeconds(servers);
  const result = await autocannon({ url: servers.map((server) => `${server.url}/healthz`), connections, duration: baselineRunMs / 1000 });
  return { rate: result['2xx'] / result.duration, cpuMs: ((serversCpuSeconds(servers) - cpuBefore) * 1000) / result.requests.total };
}

/**
 * Presents every token (and every replay) once and waits for every answer: a fixed amount of requests rather than a
 * duration, so no call is still in flight, committed but uncounted, when the run ends.
 */
async function paidLoad(servers: readonly ServerProcess[], body: string, tokens: string[]): Promise<PaidRun> {
  const { connections, replayEvery } = SETTINGS.throughput;
  const presentations: string[] = [];
  tokens.forEach((token, index) => {
    presentations.push(token);
    if (index % replayEvery === 0) presentations.push(token);
  });
  let cursor = 0;
  let dry = 0;
  const cpuBefore = serversCpuSeconds(servers);
  // With `amount`, autocannon notices the last answer only at its next one-second tick and counts that wait in its
  // `duration`: the run lasts from the start to the last answer.
  const started = performance.now();
  let lastAnswer = started;
  const statuses = new Map<string, number[]>();
  const unexpected = new Map<number, number>();
  const result = await autocannon({
    url: servers.map((server) => server.url),
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
          lastAnswer = performance.now();
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
  const seconds = (lastAnswer - started) / 1000;
  let successes = 0;
  for (const seen of statuses.values()) successes += seen.filter((status) => status === 200).length;
  const cpuMsPerRequest = ((serversCpuSeconds(servers) - cpuBefore) * 1000) / presentations.length;
  return { successes, seconds, tokens, dry, statuses, unexpected, unanswered: result.errors + result.timeouts, cpuMsPerRequest };
}

/** A warm-up, then `runs` runs, each with the tokens for about runMs at the rate of the run before it. */
export async function paidRuns(servers: readonly ServerProcess[], databaseUrl: string, body: string, warmupTokens: string[]): Promise<{ warmup: PaidRun; runs: PaidRun[] }> {
  const settings = SETTINGS.throughput;
  const warmup = await paidLoad(servers, body, warmupTokens);
  let recentRate = warmup.successes / warmup.seconds;
  const runs: PaidRun[] = [];
  for (let run = 0; run < settings.runs; run += 1) {
    const count = Math.max(settings.connections * 4, Math.ceil((recentRate * settings.runMs) / 1000));
    const done = await paidLoad(servers, body, await mintTokens(databaseUrl, SERVICE, count));
    recentRate = done.successes / done.seconds;
    runs.push(done);
  }
  return { warmup, runs };
}

/**
 * The row's three lines: the rate against its baseline, double spends, and uses charged − paid answers. The audit
 * reads every minted token back from the ledger: no token may have succeeded twice, in the answers or in the ledger.
 */
export async function paidRows(
  row: { row: string; metric: string; target: number; databaseUrl: string; setup: string },
  baselines: Array<{ rate: number; cpuMs: number }>,
  { warmup, runs }: { warmup: PaidRun; runs: PaidRun[] },
): Promise<RowResult[]> {
  const payments = openPayments(row.databaseUrl);
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
  const settings = SETTINGS.throughput;
  const dry = runs.reduce((sum, run) => sum + run.dry, 0);
  const unexpected = runs.flatMap((run) => [...run.unexpected.entries()].map(([status, count]) => `${count}× HTTP ${status}`));
  const unanswered = [warmup, ...runs].reduce((sum, run) => sum + run.unanswered, 0);
  const rate = median(runs.map((run) => run.successes / run.seconds));
  const baseline = median(baselines.map((measured) => measured.rate));
  const doubleSpends = doubleInAnswers + overspentInLedger;
  const notes = [
    `${row.setup}; ${settings.connections} connections, ${settings.runs} runs of ~${settings.runMs / 1000} s (${runs.map((run) => run.seconds.toFixed(1)).join(', ')} s) after a warm-up of ${warmup.tokens.length} tokens; provider: bench stub`,
    `${observed} paid answers, ${charged} uses charged in the ledger, ${replayRefusals} replays refused`,
    `server CPU per request ${median(runs.map((run) => run.cpuMsPerRequest)).toFixed(3)} ms (paid calls and refused replays; runs ${runs.map((run) => run.cpuMsPerRequest.toFixed(3)).join(', ')}), per GET /healthz ${median(baselines.map((measured) => measured.cpuMs)).toFixed(3)} ms`,
    ...(dry ? [`${dry} requests went out without a token (pool ran dry)`] : []),
    ...(unanswered ? [`${unanswered} requests got no answer (timeouts, connection errors)`] : []),
    ...(unexpected.length ? [`unexpected answers: ${unexpected.join(', ')}`] : []),
  ];
  return [
    {
      row: row.row,
      metric: row.metric,
      ours: rate,
      unit: '/s',
      baseline: { label: 'GET /healthz, same server code', value: baseline },
      ratio: rate / baseline,
      target: { text: `≥ ${row.target.toLocaleString('en-US')}/s`, met: rate >= row.target },
      note: notes.join('; '),
    },
    {
      row: row.row,
      metric: '  double spends seen (answers + ledger)',
      ours: doubleSpends,
      unit: '',
      target: { text: '0', met: doubleSpends === 0 },
      note: `${doubleInAnswers} tokens answered 200 twice, ${overspentInLedger} tokens with more uses than bought; ${warmup.statuses.size + runs.reduce((sum, run) => sum + run.statuses.size, 0)} tokens presented`,
    },
    {
      row: row.row,
      metric: '  uses charged − paid answers (ledger audit)',
      ours: charged - observed,
      unit: '',
      target: { text: '0', met: charged === observed && unanswered === 0 },
      note: `every minted token read back: ${charged} uses charged, ${observed} answered 200; the load waits for every answer before the audit`,
    },
  ];
}
