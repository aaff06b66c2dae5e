import type { Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig, type Config } from '../../src/config.js';
import { closeAppContext, createAppContext, type AppContext } from '../../src/app.js';
import { createLogger } from '../../src/logger.js';
import { serveHttp } from '../../src/http/serve.js';
import type { AlibabaEmulator } from '../emulator/index.js';

export interface TestServer {
  url: string;
  context: AppContext;
  close(): Promise<void>;
}

/** Environment that points the real SDK at the loopback emulator. */
export function emulatorEnvironment(emulator: AlibabaEmulator): Record<string, string> {
  return {
    ALIBABA_CLOUD_ACCESS_KEY_ID: emulator.accessKeyId,
    ALIBABA_CLOUD_ACCESS_KEY_SECRET: emulator.accessKeySecret,
    IMAGESEG_ENDPOINT: emulator.endpoint,
    IMAGESEG_PROTOCOL: 'http',
    IMAGESEG_PASSTHROUGH_HOSTS: '127.0.0.1',
    IMAGESEG_ALLOW_PRIVATE_URLS: '1',
    PAYMENTS: 'off',
  };
}

/** The real HTTP server in-process on an ephemeral port, with its own data directory. */
export async function startTestServer(
  environment: Record<string, string>,
  options: { jobPollingMs?: number; polling?: Partial<Config['polling']>; providers?: Partial<Pick<Config['providers'], 'silenceMs' | 'breaker'>> } = {},
): Promise<TestServer> {
  const dataDirectory = mkdtempSync(path.join(tmpdir(), 'imageseg-test-'));
  const base = loadConfig({ DATABASE_URL: path.join(dataDirectory, 'imageseg.db'), LOG_LEVEL: 'silent', ...environment }, { transport: 'http', port: 0 });
  const quickPrior = options.jobPollingMs ? { initialMs: options.jobPollingMs, factor: 1.5, maxMs: 1000 } : {};
  const polled = { ...base, polling: { ...base.polling, ...quickPrior, ...options.polling } };
  const config = options.providers ? { ...polled, providers: { ...polled.providers, ...options.providers } } : polled;
  // The port is known only after listening; results links use the bound address.
  const context = createAppContext(config, createLogger('silent'));
  const server: Server = await serveHttp(context);
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const url = `http://127.0.0.1:${port}`;
  Object.assign(context.config, { publicBaseUrl: url });
  return {
    url,
    context,
    close: async () => {
      await new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
      await closeAppContext(context);
      rmSync(dataDirectory, { recursive: true, force: true });
    },
  };
}

/** Environment that points the ailabtools and Aidge providers at their loopback emulators. */
export function peerEnvironment(peers: { ailabtools?: { endpoint: string; apiKey: string }; aidge?: { endpoint: string; appKey: string; appSecret: string } }): Record<string, string> {
  return {
    ...(peers.ailabtools ? { AILABTOOLS_API_KEY: peers.ailabtools.apiKey, AILABTOOLS_ENDPOINT: peers.ailabtools.endpoint } : {}),
    ...(peers.aidge ? { AIDGE_APP_KEY: peers.aidge.appKey, AIDGE_APP_SECRET: peers.aidge.appSecret, AIDGE_ENDPOINT: peers.aidge.endpoint } : {}),
    IMAGESEG_ALLOW_PRIVATE_URLS: '1',
    PAYMENTS: 'off',
  };
}
