import { parseArgs } from 'node:util';
import { loadProcessConfig, ENVIRONMENT_HELP, ConfigError, type Transport } from './config.js';
import type { Server } from 'node:http';
import { closeAppContext, createAppContext, type AppContext } from './app.js';
import { logStartup } from './startup.js';
import { operatorMessage, toAppError } from './errors.js';
import { inputJsonSchemaOf } from './catalog/schemas.js';
import { PRODUCT_VERSION } from './version.js';
import { RESULT_RESOURCE_BASE } from './results/result-store.js';
import { TOKENS_USAGE, runRevenueCommand, runTokensCommand } from './tokens-command.js';
import { exitQuietlyOnClosedPipes, writeStdout } from './terminal/output.js';
import { ENGINE_COMMAND } from './providers/local/engine-protocol.js';

const USAGE = `imageseg-mcp ${PRODUCT_VERSION} — paid image segmentation as MCP tools and a REST API

Usage:
  imageseg-mcp [stdio]                       MCP over stdio (logs on stderr)
  imageseg-mcp http [--host H] [--port P]    MCP at /mcp and REST at /api (default 127.0.0.1:8402)
  imageseg-mcp i <input|-> <output|-> [--tool T] [--json '{options}']
                                             one image (default tool product_background_removal); - is stdin/stdout
  imageseg-mcp p <folder> <out-folder> [--tool T] [--json '{options}']
                                             every image in a folder, progress on stderr
  imageseg-mcp list                          the tools that run here (IMAGESEG_LIST_ALL_TOOLS=1: all)
  imageseg-mcp call <tool> --json '{...}' [--payment-token T]
                                             run one tool and print its answer
${TOKENS_USAGE}
  imageseg-mcp --help | --version

Environment (all optional):
${ENVIRONMENT_HELP.map(([name, text]) => `  ${name.padEnd(33)}${text}`).join('\n')}
`;

/**
 * Stops taking requests (new ones on open connections get 503 SHUTTING_DOWN), gives calls in flight
 * IMAGESEG_SHUTDOWN_SECONDS to finish, then aborts the rest (their payments are released, nothing is charged),
 * closes the stores and exits once their answers are out.
 */
function drain(context: AppContext, server: Server): void {
  if (context.draining) return;
  context.draining = true;
  const graceMs = context.config.shutdownMs;
  const startedAt = Date.now();
  context.logger.info({ graceSeconds: graceMs / 1000 }, 'shutting down: no new requests; calls in flight may finish');
  let exiting = false;
  const exit = async () => {
    if (exiting) return;
    exiting = true;
    await closeAppContext(context);
    context.logger.info({ drainMs: Date.now() - startedAt }, 'drained: stores closed');
    process.exit(0);
  };
  server.close(() => void exit());
  // A keep-alive connection goes idle once its call is answered: close it then, not at the keep-alive timeout.
  server.closeIdleConnections();
  setInterval(() => server.closeIdleConnections(), 100).unref();
  setTimeout(() => {
    context.logger.warn('shutdown grace over: stopping the calls still running, uncharged');
    context.shutdown.abort();
    setTimeout(() => {
      server.closeAllConnections();
      void exit();
    }, 2000).unref();
  }, graceMs).unref();
}

async function main(argv: string[]): Promise<number> {
  if (argv[0] === ENGINE_COMMAND) {
    // Not for people: the embedded models' own process, started by the server (providers/local/engine.ts).
    const { runLocalEngine } = await import('./providers/local/engine-main.js');
    runLocalEngine(argv[1] ?? '{}');
    return -1;
  }
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      host: { type: 'string' },
      port: { type: 'string' },
      json: { type: 'string' },
      'payment-token': { type: 'string' },
      service: { type: 'string' },
      calls: { type: 'string' },
      expires: { type: 'string' },
      tool: { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean', short: 'v' },
    },
  });
  if (values.help) return void process.stdout.write(USAGE), 0;
  if (values.version) return void process.stdout.write(`${PRODUCT_VERSION}\n`), 0;
  const [command = 'stdio', ...rest] = positionals;
  const transport: Transport = command === 'http' ? 'http' : 'stdio';
  const port = values.port === undefined ? undefined : Number(values.port);
  if (port !== undefined && !(Number.isInteger(port) && port >= 0 && port < 65536)) throw new ConfigError(`--port must be 0..65535, got ${values.port}`);
  const config = loadProcessConfig({ transport, host: values.host, port });

  switch (command) {
    case 'stdio': {
      const context = createAppContext(config, undefined, { resultBaseUrl: RESULT_RESOURCE_BASE });
      logStartup(context);
      const { serveStdio } = await import('./mcp/stdio.js');
      serveStdio(context);
      context.sweeper.start();
      // The client is gone (stdin closed) or asks us to stop: calls in flight end uncharged, then we exit.
      const stop = () => {
        context.shutdown.abort();
        setTimeout(() => process.exit(0), 200).unref();
      };
      process.stdin.once('end', stop);
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      return -1;
    }
    case 'http': {
      const context = createAppContext(config);
      logStartup(context);
      const { serveHttp } = await import('./http/serve.js');
      const server = await serveHttp(context);
      const address = server.address();
      const boundPort = typeof address === 'object' && address ? address.port : config.http.port;
      // --port 0: links in answers name the port actually bound, unless PUBLIC_BASE_URL names the server.
      if (!config.http.publicBaseUrlSet && config.http.port === 0) config.publicBaseUrl = config.publicBaseUrl.replace(/:0$/, `:${boundPort}`);
      context.logger.info({ url: `http://${config.http.host}:${boundPort}` }, `listening: MCP at http://${config.http.host}:${boundPort}/mcp, REST at /api/tools/<serviceId>`);
      process.once('SIGINT', () => drain(context, server));
      process.once('SIGTERM', () => drain(context, server));
      return -1;
    }
    case 'list': {
      const context = createAppContext({ ...config, logLevel: 'silent' }, undefined);
      const { listTools } = await import('./terminal/list.js');
      await writeStdout(listTools(context));
      return 0;
    }
    case 'i':
    case 'p': {
      // The terminal commands (and the progress bar's package) load only when one runs: a server start skips them.
      const [{ runImageCommand, withFileRoots }, { runFolderCommand }] = await Promise.all([import('./terminal/one-image.js'), import('./terminal/folder.js')]);
      const createContext = (folders: string[]) => createAppContext({ ...withFileRoots(config, folders), logLevel: config.logLevel === 'info' ? 'warn' : config.logLevel });
      const options = { tool: values.tool, json: values.json, paymentToken: values['payment-token'] };
      return command === 'i' ? runImageCommand(createContext, rest, options) : runFolderCommand(createContext, rest, options);
    }
    case 'call': {
      const [tool] = rest;
      if (!tool) throw new ConfigError(`usage: imageseg-mcp call <tool> --json '{...}'`);
      const context = createAppContext(config);
      const capability = context.catalog.find(tool);
      if (!capability) throw new ConfigError(`unknown tool "${tool}"; run imageseg-mcp list`);
      let args: unknown;
      try {
        args = JSON.parse(values.json ?? '{}');
      } catch (error) {
        throw new ConfigError(`--json is not valid JSON: ${(error as Error).message}\nexpected: ${JSON.stringify(inputJsonSchemaOf(capability))}`);
      }
      const outcome = await context.pipeline({
        tool,
        arguments: args,
        transport: 'cli',
        payment: { token: values['payment-token'] },
        onProgress: (progress) => process.stderr.write(`… ${progress.message ?? progress.progress}\n`),
      });
      process.stdout.write(`${JSON.stringify(outcome.output, null, 2)}\n`);
      return 0;
    }
    case 'tokens': {
      const context = createAppContext({ ...config, logLevel: 'silent' });
      return runTokensCommand(context, rest, values);
    }
    case 'revenue': {
      const context = createAppContext({ ...config, logLevel: 'silent' });
      return runRevenueCommand(context, values);
    }
    default:
      throw new ConfigError(`unknown command "${command}"\n\n${USAGE}`);
  }
}

exitQuietlyOnClosedPipes();
main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof ConfigError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`imageseg-mcp: ${(error as Error).message}\n`);
      process.exitCode = 2;
      return;
    }
    const appError = toAppError(error);
    process.stderr.write(`${JSON.stringify(appError.toBody(), null, 2)}\n`);
    if (appError.code === 'INTERNAL') process.stderr.write(`imageseg-mcp: ${operatorMessage(appError)}\n`);
    process.exitCode = 1;
  },
);
