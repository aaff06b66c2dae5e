/**
 * The product's HTTP server with one change: the provider answers at once with a fixed result. Everything else
 * (Express app, routes, argument validation, payment gate and SQLite ledger, image pre-checks, delivery) is the
 * product's own wiring, so a load test against it measures the gateway and the ledger, not a model or Alibaba.
 *
 *   node dist/bench/servers/stub-provider-server.js http --host 127.0.0.1 --port P   (environment as the CLI's)
 */
import { parseArgs } from 'node:util';
import { randomUUID } from 'node:crypto';
import { loadProcessConfig } from '../../src/config.js';
import { createAppContext } from '../../src/app.js';
import { serveHttp } from '../../src/http/serve.js';
import type { Provider, ProviderRegistry } from '../../src/providers/index.js';

const { values } = parseArgs({ args: process.argv.slice(2), allowPositionals: true, options: { host: { type: 'string' }, port: { type: 'string' } } });
const config = loadProcessConfig({ transport: 'http', host: values.host, port: Number(values.port ?? 0) });

const stub: Provider = {
  name: 'local',
  // As the embedded provider it stands in for: the pre-check reads headers and the provider decodes (here: skips).
  decodesImages: true,
  supports: () => true,
  run: async (call) => ({ requestId: randomUUID().toUpperCase(), data: { ImageURL: `${config.publicBaseUrl}/results/stub-${call.capability.serviceId}.png` } }),
};
const providers: ProviderRegistry = { active: 'local', select: () => stub, available: () => true, servedBy: () => ['local'], skipped: [] };
const context = createAppContext(config, undefined, { providers });

const server = await serveHttp(context);
context.logger.info({ url: `http://${config.http.host}:${config.http.port}` }, 'bench stub-provider server listening');
const stop = () => server.close(() => process.exit(0));
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
