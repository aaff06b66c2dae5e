import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { createAppContext } from '../src/app.js';
import { logStartup } from '../src/startup.js';
import { pino } from 'pino';

const CLI = path.resolve('dist/cli.js');
const run = promisify(execFile);

const PEERS = {
  AILABTOOLS_API_KEY: 'key',
  AIDGE_APP_KEY: 'app',
  AIDGE_APP_SECRET: 'secret',
  ALIBABA_CLOUD_ACCESS_KEY_ID: 'id',
  ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'secret',
};

describe('IMAGESEG_PROVIDERS: the order, and who serves what', () => {
  it('takes the order as written and skips providers without credentials', () => {
    const config = loadConfig({ IMAGESEG_PROVIDERS: 'aidge, ailabtools,alibaba,local', AILABTOOLS_API_KEY: 'key' });
    expect(config.providers.order).toEqual(['aidge', 'ailabtools', 'alibaba', 'local']);
    const context = createAppContext({ ...config, logLevel: 'silent' });
    const product = context.catalog.find('product_background_removal')!;
    expect(context.providers.servedBy(product)).toEqual(['ailabtools', 'local']);
    expect(context.providers.servedBy(context.catalog.find('sky_segmentation')!)).toEqual([]);
    expect(context.providers.skipped.map((entry) => entry.provider)).toEqual(['aidge', 'alibaba']);
  });

  it('refuses a provider name it does not know', () => {
    expect(() => loadConfig({ IMAGESEG_PROVIDERS: 'ailabtools,remove.bg' })).toThrow(/IMAGESEG_PROVIDERS/);
  });

  it('without IMAGESEG_PROVIDERS, puts peers with credentials before what IMAGESEG_PROVIDER chose', () => {
    expect(loadConfig({}).providers.order).toEqual(['local']);
    expect(loadConfig({ ALIBABA_CLOUD_ACCESS_KEY_ID: 'id', ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'secret' }).providers.order).toEqual(['alibaba']);
    expect(loadConfig(PEERS).providers.order).toEqual(['ailabtools', 'aidge', 'alibaba']);
  });

  it('`imageseg-mcp list` says which providers serve each tool, in order', async () => {
    const directory = mkdtempSync(path.join(tmpdir(), 'imageseg-list-'));
    try {
      const { stdout } = await run(process.execPath, [CLI, 'list'], {
        env: { ...process.env, ...PEERS, IMAGESEG_PROVIDERS: 'ailabtools,aidge,alibaba', DATABASE_URL: path.join(directory, 'imageseg.db') },
      });
      const line = (tool: string) => stdout.split('\n').find((text) => text.startsWith(`${tool} `)) ?? '';
      expect(line('product_background_removal')).toMatch(/ailabtools > aidge > alibaba$/);
      expect(line('general_segmentation')).toMatch(/ailabtools > aidge > alibaba$/);
      expect(line('sky_segmentation')).toMatch(/ alibaba$/);
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });

  it('logs at start which providers serve which tools, and which were skipped', () => {
    const lines: Array<{ msg: string }> = [];
    const logger = pino({ level: 'info' }, { write: (text: string) => lines.push(JSON.parse(text) as { msg: string }) });
    const config = loadConfig({ IMAGESEG_PROVIDERS: 'ailabtools,aidge,alibaba', AILABTOOLS_API_KEY: 'key', ALIBABA_CLOUD_ACCESS_KEY_ID: 'id', ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'secret', DATABASE_URL: ':memory:' });
    logStartup(createAppContext(config, logger));
    const messages = lines.map((line) => line.msg);
    expect(messages).toContain('provider aidge skipped: AIDGE_APP_KEY and AIDGE_APP_SECRET are not set');
    expect(messages.find((message) => message.startsWith('served by ailabtools > alibaba:'))).toMatch(/product_background_removal, general_segmentation|general_segmentation, product_background_removal/);
    expect(messages.find((message) => message.startsWith('served by alibaba:'))).toMatch(/sky_segmentation/);
  });
});
