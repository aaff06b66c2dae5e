import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ENVIRONMENT_HELP, loadConfig } from '../src/config.js';
import { platformSchema } from '../src/config-environment.js';
import { ENVIRONMENT_MARKERS, renderEnvironmentTable } from '../src/config-environment-docs.js';

/** The one page among README.md and docs/*.md that holds the environment table's markers. */
function environmentPage(): { file: string; block: string } {
  const docs = existsSync('docs') ? readdirSync('docs').filter((name) => name.endsWith('.md')).map((name) => `docs/${name}`) : [];
  const holders = ['README.md', ...docs].filter((file) => readFileSync(file, 'utf8').includes(ENVIRONMENT_MARKERS.start));
  expect(holders, 'exactly one page holds the environment table').toHaveLength(1);
  const [file] = holders as [string];
  const text = readFileSync(file, 'utf8');
  const start = text.indexOf(ENVIRONMENT_MARKERS.start) + ENVIRONMENT_MARKERS.start.length;
  const end = text.indexOf(ENVIRONMENT_MARKERS.end, start);
  expect(end, `${file}: ${ENVIRONMENT_MARKERS.end} follows ${ENVIRONMENT_MARKERS.start}`).toBeGreaterThan(0);
  return { file, block: text.slice(start, end).trim() };
}

/** The names `loadConfig` looks up when given an empty environment: every variable it can read. */
function variablesReadByLoadConfig(): string[] {
  const read = new Set<string>();
  const spy = new Proxy({}, {
    get: (_target, name) => (typeof name === 'string' && read.add(name), undefined),
    has: (_target, name) => (typeof name === 'string' && read.add(name), false),
  });
  loadConfig(spy);
  return [...read];
}

const helpOf = (name: string) => new Map(ENVIRONMENT_HELP).get(name);

describe('the environment documentation, generated from the configuration schema', () => {
  it('is what the docs show: run `npm run docs:env` after changing a setting', () => {
    const { file, block } = environmentPage();
    expect(block, `${file} is out of date: npm run docs:env`).toBe(renderEnvironmentTable());
  });

  it('describes every variable loadConfig reads, except what the platform provides', () => {
    const platform = new Set(Object.keys(platformSchema.shape));
    const read = variablesReadByLoadConfig();
    expect(read).toContain('IMAGESEG_PROVIDER');
    const undocumented = read.filter((name) => !platform.has(name) && !helpOf(name));
    expect(undocumented).toEqual([]);
    for (const name of platform) expect(helpOf(name), `${name} is no product setting`).toBeUndefined();
  });

  it('shows the defaults loadConfig applies, once, at the end of the text', () => {
    const defaults = loadConfig({});
    expect(helpOf('IMAGESEG_JOB_DEADLINE_SECONDS')).toMatch(new RegExp(`\\(default ${defaults.jobDeadlineMs / 1000}\\)$`));
    expect(helpOf('IMAGESEG_INLINE_MAX_BYTES')).toMatch(new RegExp(`\\(default ${defaults.results.inlineMaxBytes}\\)$`));
    expect(helpOf('IMAGESEG_PASSTHROUGH_HOSTS')).toMatch(new RegExp(`\\(default ${defaults.passthroughHosts.join(',').replaceAll('.', '\\.').replaceAll('*', '\\*')}\\)$`));
    expect(helpOf('X402_NETWORK')).toMatch(new RegExp(`\\(default ${defaults.x402.network}\\)$`));
    expect(helpOf('ALIBABA_CLOUD_ACCESS_KEY_ID')).not.toContain('default');
    for (const [name, text] of ENVIRONMENT_HELP) expect(text.match(/\(default /g)?.length ?? 0, name).toBeLessThanOrEqual(1);
  });

  it('reads as plain text in --help and server.json, markdown in the docs', () => {
    for (const [name, text] of ENVIRONMENT_HELP) expect(text, name).not.toContain('`');
    expect(renderEnvironmentTable()).toContain('| `IMAGESEG_ENDPOINT` | Alibaba imageseg endpoint, `host[:port]` (default `imageseg.cn-shanghai.aliyuncs.com`) |');
  });
});
