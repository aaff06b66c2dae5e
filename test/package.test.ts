import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { capabilities } from '../tools/index.js';
import { linkedPaths } from './support/markdown-links.js';

// `npm run build` bundles the CLI into dist/cli.js and dist/chunks/: what users run is the bundle, so it is tested
// from the packed tarball, with none of dist/src/ beside it.
const manifest = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string; bin: Record<string, string> };

/** dist/cli.js and every chunk it imports, statically or on first use, as package paths. */
function bundleFiles(): string[] {
  const found = new Set<string>();
  const visit = (file: string) => {
    if (found.has(file)) return;
    found.add(file);
    for (const [, relative] of readFileSync(file, 'utf8').matchAll(/(?:from |import\()\s*"(\.\.?\/[^"]+)"/g)) visit(path.posix.join(path.posix.dirname(file), relative));
  };
  visit('dist/cli.js');
  return [...found];
}

describe('the npm package', () => {
  let folder: string;
  let installed: string;
  let project: string;
  beforeAll(() => {
    folder = mkdtempSync(path.join(tmpdir(), 'imageseg-pack-'));
    const tarball = execFileSync('npm', ['pack', '--pack-destination', folder, '--ignore-scripts', '--silent'], { encoding: 'utf8' }).trim().split('\n').at(-1)!;
    project = path.join(folder, 'project');
    const modules = path.join(project, 'node_modules');
    mkdirSync(path.join(modules, '.bin'), { recursive: true });
    writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'empty', version: '1.0.0', private: true }));
    // No registry is reachable in tests: the package comes from the tarball, its dependencies from this checkout's install.
    installed = path.join(modules, 'imageseg-mcp');
    mkdirSync(installed);
    execFileSync('tar', ['xzf', path.join(folder, tarball), '-C', installed, '--strip-components=1']);
    const shared = realpathSync('node_modules');
    for (const name of readdirSync(shared)) if (name !== '.bin' && name !== 'imageseg-mcp') symlinkSync(path.join(shared, name), path.join(modules, name));
    symlinkSync(path.join('..', 'imageseg-mcp', manifest.bin['imageseg-mcp']), path.join(modules, '.bin', 'imageseg-mcp'));
  });
  afterAll(() => folder && rmSync(folder, { recursive: true, force: true }));

  it('ships the bundle with every chunk it loads, its source maps, models, README and LICENSE, and no sources, tests or benchmarks', () => {
    const files = readdirSync(installed, { recursive: true, encoding: 'utf8' });
    const chunks = bundleFiles();
    expect(chunks.length).toBeGreaterThan(2);
    for (const needed of [...chunks, ...chunks.map((file) => `${file}.map`), 'models/selfie/selfie.bin', 'models/selfie/selfie.json', 'examples/product.jpg', 'README.md', 'LICENSE', 'mcp.json', 'server.json', 'package.json']) expect(files).toContain(needed);
    expect(files.filter((file) => /^(test|bench|src|tools|dist\/(src|tools|test|bench))(\/|$)/.test(file))).toEqual([]);
  });

  it('ships README, the docs/ pages and every file their links point to, so the links resolve in the installed package', () => {
    const files = readdirSync(installed, { recursive: true, encoding: 'utf8' });
    const linked = linkedPaths();
    expect(linked).toEqual(expect.arrayContaining(['README.md', 'docs/payments.md', 'docs/operators.md', 'mcp.json', 'LICENSE']));
    expect(linked.filter((file) => !files.includes(file))).toEqual([]);
  });

  it('runs `npx imageseg-mcp list` from the packed tarball installed into an empty folder', () => {
    const listed = execFileSync('npx', ['--no', 'imageseg-mcp', 'list'], { cwd: project, encoding: 'utf8', env: { ...process.env, HOME: folder, XDG_DATA_HOME: path.join(folder, 'data'), LOG_LEVEL: 'silent', IMAGESEG_LIST_ALL_TOOLS: '1' } });
    for (const capability of capabilities) expect(listed).toContain(capability.tool);
  });

  it('answers initialize and tools/list over stdio, started in / with an empty HOME, the embedded model found beside the package', async () => {
    const home = path.join(folder, 'empty-home');
    mkdirSync(home);
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [path.join(project, 'node_modules', '.bin', 'imageseg-mcp'), 'stdio'],
      cwd: '/',
      env: { PATH: process.env.PATH ?? '', HOME: home, PAYMENTS: 'off' },
      stderr: 'pipe',
    });
    const client = new Client({ name: 'package-test', version: '1.0.0' });
    try {
      await client.connect(transport);
      expect(client.getServerVersion()).toMatchObject({ name: 'imageseg-mcp', version: manifest.version });
      const names = (await client.listTools()).tools.map((tool) => tool.name);
      // product_background_removal runs on the ISNet weights and onnxruntime found from the bundle's location.
      expect(names).toEqual(expect.arrayContaining(['product_background_removal', 'body_segmentation', 'mask_refinement']));
    } finally {
      await client.close();
    }
  });
});
