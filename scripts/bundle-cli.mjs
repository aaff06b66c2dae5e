// `npm run build` (after tsc has type-checked and compiled dist/ for the bench and tests) bundles the CLI into
// dist/cli.js, the command package.json `bin` names: one file starts faster than ~400 modules found one by one.
// Kept outside the bundle, loaded from node_modules as before: native addons, packages that find files beside
// themselves (model weights, .wasm), the Alibaba SDK (its CommonJS interop breaks when bundled), and packages only
// loaded on first use (so a stdio start does not parse them). The bundle finds models/ and package.json by walking
// up from its own location, as dist/src/ did.
import { chmodSync, rmSync } from 'node:fs';
import { build } from 'esbuild';

const EXTERNAL = [
  'better-sqlite3',
  'sharp',
  'onnxruntime-node',
  'pg',
  'pg-native',
  '@imgly/background-removal-node',
  '@alicloud/*',
  '@darabonba/*',
  '@tensorflow/*',
  'prom-client',
  'ethers',
  'ethers/*',
  'tiny-secp256k1',
  'onnx-proto',
  'image-size',
];

rmSync('dist/chunks', { recursive: true, force: true });
await build({
  entryPoints: { cli: 'src/cli.ts' },
  outdir: 'dist',
  // What the CLI imports dynamically (the stdio or HTTP server, a subcommand, a store) is a chunk of its own,
  // read only when used, with the external packages it imports.
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: EXTERNAL,
  // CommonJS packages inside an ES module bundle call require() for Node's built-ins.
  banner: { js: "#!/usr/bin/env node\nimport { createRequire as __bundleRequire } from 'node:module';\nconst require = __bundleRequire(import.meta.url);" },
  // Stack traces name src/ files and lines under `node --enable-source-maps`; the map does not carry the sources.
  sourcemap: 'linked',
  sourcesContent: false,
  legalComments: 'none',
  logLevel: 'warning',
});
chmodSync('dist/cli.js', 0o755);
