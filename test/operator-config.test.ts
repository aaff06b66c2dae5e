import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { ConfigError, loadConfig } from '../src/config.js';
import { createAppContext } from '../src/app.js';
import { createLogger } from '../src/logger.js';
import { describeTool } from '../src/mcp/describe.js';

const run = promisify(execFile);
const contextWith = (environment: Record<string, string>) =>
  createAppContext(loadConfig({ DATABASE_URL: ':memory:', ...environment }, { transport: 'http' }), createLogger('silent'));

describe('operator settings from the environment', () => {
  it('prices tools from IMAGESEG_PRICES, down to the tool descriptions', () => {
    const context = contextWith({ IMAGESEG_PRICES: 'product-background-removal=0.10, mask-refinement=0.05' });
    expect(context.catalog.find('product-background-removal')?.price?.amount).toBe('0.10');
    expect(context.catalog.find('mask-refinement')?.price?.amount).toBe('0.05');
    expect(context.catalog.find('hd-sky-segmentation')?.price?.amount).toBe('0.20');
    expect(JSON.stringify(describeTool(context.catalog.find('mask-refinement')!, context.providers))).toContain('USD 0.05');
  });

  it('refuses prices it cannot apply: not a price, an unknown service, a free one', () => {
    expect(() => loadConfig({ IMAGESEG_PRICES: 'product-background-removal=ten' })).toThrow(ConfigError);
    expect(() => loadConfig({ IMAGESEG_PRICES: 'product-background-removal=0.1234567' })).toThrow(ConfigError);
    expect(() => contextWith({ IMAGESEG_PRICES: 'no-such-service=0.10' })).toThrow(/no service named "no-such-service"/);
    expect(() => contextWith({ IMAGESEG_PRICES: 'async-job-result=0.10' })).toThrow(/free/);
  });

  it('refuses a rate limit that is not a whole number, and trusted proxies that are not addresses', async () => {
    expect(() => loadConfig({ IMAGESEG_RATE_LIMIT: '0' })).toThrow(ConfigError);
    expect(() => loadConfig({ IMAGESEG_RATE_LIMIT: 'lots' })).toThrow(ConfigError);
    const directory = mkdtempSync(path.join(tmpdir(), 'imageseg-proxies-'));
    try {
      const failed = await run(process.execPath, [path.resolve('dist/cli.js'), 'http', '--port', '0'], {
        cwd: directory,
        env: { ...process.env, DATABASE_URL: path.join(directory, 'db.sqlite'), IMAGESEG_RATE_LIMIT: '10', IMAGESEG_TRUSTED_PROXIES: 'proxy.example.com' },
      }).then(
        () => undefined,
        (error: { code: number; stderr: string }) => error,
      );
      expect(failed?.stderr).toContain('IMAGESEG_TRUSTED_PROXIES');
      expect(failed?.code).toBe(2);
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });
});
