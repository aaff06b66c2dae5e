/**
 * The layout of docs/ARCHITECTURE.md, checked by `npm test`. Each folder says what it may import (`allowed`);
 * anything else fails the build as `not-in-allowed`. Data flows one way, bottom to top:
 *
 *   foundation (errors, logger, config, metrics, postgres-pool, version)
 *   tools/ + catalog/            the descriptors and what is built from them
 *   fetch/ -> images/ -> results/ -> providers/
 *   payments/, limits/, tasks/   money, rate counters, MCP tasks
 *   calls/ -> call.ts, batch.ts  THE pipeline and its steps
 *   app.ts, sweeper             wiring
 *   mcp/, http/, terminal/       adapters: wire formats only
 *   cli.ts                       the command
 *
 * npm packages have homes too (the `forbidden` rules below say where each may be used, and why).
 */
const FOUNDATION = ['^src/(errors|logger|version|metrics|postgres-pool|advisory-locks|sqlite-file)\\.ts$', '^src/config[a-z-]*\\.ts$'];
const CATALOG = ['^src/catalog/', '^tools/'];
const layer = (from, to, comment) => ({ from: { path: from }, to: { path: [from, ...FOUNDATION, ...to] }, comment });

module.exports = {
  allowed: [
    { comment: 'node built-ins and npm packages: placed by the forbidden rules', from: {}, to: { dependencyTypes: ['core', 'npm', 'npm-dev', 'npm-optional', 'npm-peer', 'npm-no-pkg', 'npm-unknown'] } },
    layer('^src/(errors|logger|version|metrics|postgres-pool|advisory-locks|sqlite-file|config[a-z-]*)\\.ts$', [], 'the foundation imports only itself'),
    layer('^tools/', ['^src/catalog/capability\\.ts$'], 'descriptors are data: zod and the descriptor type'),
    layer('^src/catalog/', ['^tools/'], 'the catalog is built from the descriptors alone'),
    layer('^src/fetch/', [], 'fetching URLs under the address guard knows nothing of images'),
    layer('^src/images/', [...CATALOG, '^src/fetch/'], 'image work: loading, checks, fitting, transforms'),
    layer('^src/results/', [...CATALOG, '^src/fetch/', '^src/images/'], 'results: the store, delivery, result fields and types'),
    layer('^src/providers/', [...CATALOG, '^src/fetch/', '^src/images/', '^src/results/'], 'a provider turns arguments and images into results; money and wire formats are not its business'),
    layer('^src/payments/', CATALOG, 'money knows capabilities and prices, never providers, images or transports'),
    layer('^src/limits/', [], 'rate counters'),
    layer('^src/tasks/', ['^src/payments/'], 'MCP tasks: who owns them comes from payments'),
    layer('^src/calls/', [...CATALOG, '^src/images/', '^src/results/', '^src/providers/', '^src/payments/'], 'the steps of a call; never the pipeline above them'),
    layer('^src/(call|batch)\\.ts$', [...CATALOG, '^src/calls/', '^src/images/', '^src/results/', '^src/providers/', '^src/payments/'], 'the pipeline: a batch runs items through the call pipeline'),
    layer('^src/(observed-gate|sweeper|sweep-lock)\\.ts$', [...CATALOG, '^src/payments/', '^src/tasks/', '^src/results/'], 'wiring around the services'),
    layer('^src/app\\.ts$', ['^tools/', '^src/(?!(mcp|http|terminal)/|cli\\.ts|startup\\.ts|tokens-command\\.ts)'], 'builds every service once; no adapter'),
    layer('^src/web/', [], 'the built browser files (dist/web/), read at run time'),
    layer('^src/mcp/', ['^src/(?!(http|terminal)/|cli\\.ts)'], 'MCP: translates wire formats, holds no business rules'),
    layer('^src/http/', ['^src/(?!terminal/|cli\\.ts)'], 'HTTP: translates wire formats (and mounts MCP), holds no business rules'),
    layer('^src/terminal/', ['^src/(?!(mcp|http)/|cli\\.ts)'], 'the terminal verbs run calls like any adapter'),
    layer('^src/(cli|startup|tokens-command)\\.ts$', ['^src/'], 'the command starts everything'),
  ],
  allowedSeverity: 'error',
  forbidden: [
    { name: 'no-circular', severity: 'error', comment: 'modules that import each other work only by hoisting luck', from: {}, to: { circular: true } },
    {
      name: 'alibaba-sdk-in-its-provider',
      severity: 'error',
      comment: 'the Alibaba SDK (and its runtime) is the Alibaba provider\'s business alone',
      from: { pathNot: '^src/providers/alibaba/' },
      to: { path: 'node_modules/(@alicloud|@darabonba)/' },
    },
    {
      name: 'pg-in-the-stores',
      severity: 'error',
      comment: 'PostgreSQL is reached only through the stores (postgres-*.ts), their pool and the sweep lock',
      from: { path: '^src/', pathNot: ['(^|/)postgres-[a-z-]+\\.ts$', '^src/sweep-lock\\.ts$'] },
      to: { path: 'node_modules/(pg|pg-[a-z-]+)/' },
    },
    {
      name: 'sqlite-in-the-stores',
      severity: 'error',
      comment: 'SQLite is reached only through the stores (sqlite-*.ts)',
      from: { path: '^src/', pathNot: '(^|/)sqlite-[a-z-]+\\.ts$' },
      to: { path: 'node_modules/better-sqlite3/' },
    },
    {
      name: 'signatures-in-payments',
      severity: 'error',
      comment: 'EIP-712 signatures and their curves belong to payments/',
      from: { path: '^src/', pathNot: '^src/payments/' },
      to: { path: 'node_modules/(ethers|tiny-secp256k1|@noble)/' },
    },
    {
      name: 'x402-in-payments',
      severity: 'error',
      comment: 'x402 is payments\' protocol; the catalog describes it (Bazaar) and http/ types its answers',
      from: { path: '^src/', pathNot: '^src/(payments|catalog|http)/' },
      to: { path: 'node_modules/@x402/' },
    },
    {
      name: 'express-in-http',
      severity: 'error',
      comment: 'express and body parsing (busboy) are the HTTP adapter\'s',
      from: { path: '^src/', pathNot: '^src/http/' },
      to: { path: 'node_modules/(express|busboy)/' },
    },
    {
      name: 'mcp-sdk-in-mcp',
      severity: 'error',
      comment: 'the MCP SDK is the MCP adapter\'s (http/ serves it, tasks/ implement its task store)',
      from: { path: '^src/', pathNot: '^src/(mcp|http|tasks)/' },
      to: { path: 'node_modules/@modelcontextprotocol/' },
    },
    {
      name: 'model-runtimes-in-the-local-provider',
      severity: 'error',
      comment: 'onnxruntime and TF.js run the embedded models only',
      from: { path: '^src/', pathNot: '^src/providers/local/' },
      to: { path: 'node_modules/(onnxruntime-node|onnx-proto|@tensorflow)/' },
    },
    {
      name: 'pixels-in-images',
      severity: 'error',
      comment: 'sharp and image headers are read in images/ (providers get sharp through images/sharp.ts)',
      from: { path: '^src/', pathNot: '^src/images/' },
      to: { path: 'node_modules/(sharp|image-size)/' },
    },
    {
      name: 'one-home-for-logs-and-metrics',
      severity: 'error',
      comment: 'pino is set up in logger.ts and prom-client in metrics.ts; everything else takes their objects',
      from: { path: '^src/', pathNot: '^src/(logger|metrics)\\.ts$' },
      to: { path: 'node_modules/(pino|prom-client)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
  },
};
