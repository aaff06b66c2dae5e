/**
 * Row 7b: memory under unpaid large bodies. Peak RSS of our HTTP server (child process, default body budget) while
 * 8 clients at once send an unpaid 50 MB MCP `tools/call` (one base64 image, Content-Length declared, no retry).
 * /mcp cannot ask for payment before the body is read (a credential may be inside it), so the body budget is what
 * bounds it. Baseline, on the same server just before: the same 8 bodies to REST, which answers an unpaid call 402
 * before reading its body. The peak is the kernel's high-water mark (VmHWM, reset before each burst), with 25 ms
 * samples as a fallback. Then what reading and parsing such a body costs in CPU (json-body-parse.ts).
 */
import http from 'node:http';
import path from 'node:path';
import { SETTINGS } from '../settings.js';
import { peakRssOf, resetPeak, rssOf, sleep, startServer, type ServerProcess } from '../lib/processes.js';
import type { RowResult } from '../lib/report.js';
import { measureJsonBodyParse } from './json-body-parse.js';

const MB = 1024 * 1024;
const TOOL = 'hd_general_segmentation';
const SERVICE = 'hd-general-segmentation';

/** A JSON body of exactly `bytes` bytes: one base64 image, as an MCP tools/call or as REST arguments. */
function bodyOf(kind: 'mcp' | 'rest', bytes: number): Buffer {
  const [prefix, suffix] =
    kind === 'mcp'
      ? [`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"${TOOL}","arguments":{"ImageUrl":"data:image/png;base64,`, '"}}}']
      : ['{"ImageUrl":"data:image/png;base64,', '"}'];
  const body = Buffer.alloc(bytes, 'A');
  body.write(prefix, 0);
  body.write(suffix, bytes - suffix.length);
  return body;
}

/**
 * One POST on its own connection; resolves with the status once answered (the server may answer before the whole
 * body), or `closed` when the connection closed before the answer could be read.
 */
function post(url: string, headers: Record<string, string>, body: Buffer): Promise<string> {
  return new Promise((resolve) => {
    const request = http.request(url, { method: 'POST', agent: false, headers: { ...headers, 'content-length': String(body.length) } });
    request.on('response', (response) => {
      response.resume();
      response.on('end', () => resolve(String(response.statusCode)));
    });
    request.on('error', () => resolve('closed'));
    request.end(body);
  });
}

/** Sends the burst; peak RSS over the RSS just before, and how the requests were answered (status: count). */
async function burst(server: ServerProcess, send: () => Promise<string>): Promise<{ before: number; peak: number; answers: string }> {
  await sleep(SETTINGS.memory.settleMs);
  const pid = server.child.pid!;
  const before = rssOf(pid);
  const exactPeak = resetPeak(pid);
  let sampled = before;
  const sampler = setInterval(() => {
    sampled = Math.max(sampled, rssOf(pid));
  }, SETTINGS.memory.sampleMs);
  let statuses: string[];
  try {
    statuses = await Promise.all(Array.from({ length: SETTINGS.mcpBodies.concurrent }, send));
  } finally {
    clearInterval(sampler);
  }
  const counts = new Map<string, number>();
  for (const status of statuses) counts.set(status, (counts.get(status) ?? 0) + 1);
  const answers = [...counts].map(([status, count]) => `${count}× ${status}`).join(', ');
  return { before, peak: exactPeak ? peakRssOf(pid) : sampled, answers };
}

export async function measureMcpBodiesMemory(workDirectory: string): Promise<RowResult[]> {
  const directory = path.join(workDirectory, 'mcp-bodies');
  const server = await startServer({ name: 'mcp-bodies', workDirectory: directory, environment: { DATABASE_URL: path.join(directory, 'ledger.db') } });
  try {
    const { bodyBytes } = SETTINGS.mcpBodies;
    const mcpHeaders = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
    // A small call of each kind first loads what every call needs, so the peaks are about the bodies.
    await post(`${server.url}/mcp`, mcpHeaders, bodyOf('mcp', 64 * 1024));
    await post(`${server.url}/api/tools/${SERVICE}`, { 'content-type': 'application/json' }, bodyOf('rest', 64 * 1024));
    const restBody = bodyOf('rest', bodyBytes);
    const rest = await burst(server, () => post(`${server.url}/api/tools/${SERVICE}`, { 'content-type': 'application/json' }, restBody));
    const mcpBody = bodyOf('mcp', bodyBytes);
    const mcp = await burst(server, () => post(`${server.url}/mcp`, mcpHeaders, mcpBody));
    const megabytes = (bytes: number) => `${(bytes / MB).toFixed(0)} MB`;
    return [
      {
        row: '7b',
        metric: `peak RSS, ${SETTINGS.mcpBodies.concurrent} unpaid ${bodyBytes / 1e6} MB MCP bodies at once`,
        ours: mcp.peak / MB,
        unit: 'MB',
        baseline: { label: 'the same to REST (402 unread)', value: rest.peak / MB },
        ratio: mcp.peak / rest.peak,
        target: { text: '≤ 400 MB', met: mcp.peak / MB <= 400 },
        note:
          `/mcp: RSS ${megabytes(mcp.before)} before, answers ${mcp.answers} (200: the payment-required tool result; 503: SERVER_BUSY, body budget full); ` +
          `REST: ${megabytes(rest.before)} before, answers ${rest.answers}`,
      },
      measureJsonBodyParse(mcpBody),
    ];
  } finally {
    await server.stop();
  }
}
