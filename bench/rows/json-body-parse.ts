/**
 * Row 7b, second line: CPU to read and parse a large JSON body, per MB, in this process. Ours: the server's reading
 * (`createJsonText`: decoded as it arrives, long strings kept as the decoded pieces). Baseline: what it replaced,
 * chunks joined with Buffer.concat, decoded with toString and parsed with JSON.parse. Both take the same 64 KiB
 * chunks, as a socket hands them over, alternately; the median of the runs.
 */
import { createJsonText } from '../../src/http/json-text.js';
import type { RowResult } from '../lib/report.js';

const RUNS = 7;
const CHUNK_BYTES = 64 * 1024;

function cpuMilliseconds(work: () => unknown): number {
  const started = process.cpuUsage();
  work();
  const used = process.cpuUsage(started);
  return (used.user + used.system) / 1000;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

export function measureJsonBodyParse(body: Buffer): RowResult {
  const chunks: Buffer[] = [];
  for (let offset = 0; offset < body.length; offset += CHUNK_BYTES) chunks.push(body.subarray(offset, offset + CHUNK_BYTES));
  const ours: number[] = [];
  const baseline: number[] = [];
  for (let run = 0; run < RUNS; run += 1) {
    ours.push(
      cpuMilliseconds(() => {
        const text = createJsonText();
        for (const chunk of chunks) text.write(chunk);
        return text.parse();
      }),
    );
    baseline.push(cpuMilliseconds(() => JSON.parse(Buffer.concat(chunks).toString('utf8'))));
  }
  const megabytes = body.length / 1e6;
  return {
    row: '7b',
    metric: `  CPU to read and parse a ${megabytes} MB MCP body, per MB`,
    ours: median(ours) / megabytes,
    unit: 'ms',
    baseline: { label: 'Buffer.concat + JSON.parse', value: median(baseline) / megabytes },
    ratio: median(ours) / median(baseline),
    note: `median of ${RUNS} runs each, alternating, in the bench process; the parsed value holds ~1 MB per MB either way, the text before it only for the baseline`,
  };
}
