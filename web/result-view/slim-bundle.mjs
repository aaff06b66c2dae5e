// esbuild plugin for the MCP App view's bundle (scripts/build-web.mjs; test/mcp-app.test.ts bundles its host the
// same way). ext-apps' App stands on the MCP client SDK and zod, which as published cost the view about 650 KB:
// - zod/v4 re-exports every locale (260 KB of error messages in 50 languages); the view keeps English, zod's default;
// - @modelcontextprotocol/client and /core declare no `sideEffects`, so esbuild keeps whole modules the App never
//   uses (the Client, its transports, OAuth, a JSON Schema validator); they have none, and are marked so here.
import path from 'node:path';

const MCP_PACKAGES = /[\\/]node_modules[\\/]@modelcontextprotocol[\\/](client|core)[\\/]/;

export const slimBundle = {
  name: 'slim-mcp-app-bundle',
  setup(build) {
    build.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) =>
      /[\\/]node_modules[\\/]zod[\\/]/.test(args.importer) ? { path: path.join(args.resolveDir, '../locales/index.js'), namespace: 'zod-english' } : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: 'zod-english' }, (args) => ({ contents: "export { default as en } from './en.js';", loader: 'js', resolveDir: path.dirname(args.path) }));
    build.onResolve({ filter: /.*/ }, async (args) => {
      if (args.pluginData === 'slim' || args.namespace !== 'file' || args.kind === 'entry-point') return undefined;
      const resolved = await build.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, importer: args.importer, pluginData: 'slim' });
      return MCP_PACKAGES.test(resolved.path) ? { ...resolved, sideEffects: false } : resolved;
    });
  },
};
