/**
 * The layout of DESIGN.md, checked by `npm test`: data flows one way, descriptor -> catalog -> adapters (mcp/,
 * http/) -> the call pipeline (call.ts, calls/) -> services (payments/, images/, providers/, tasks/).
 */
module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', comment: 'modules that import each other work only by hoisting luck', from: {}, to: { circular: true } },
    {
      name: 'descriptors-are-data',
      severity: 'error',
      comment: 'tools/ holds plain descriptors: zod and the descriptor type, no I/O',
      from: { path: '^tools/' },
      to: { pathNot: ['^tools/', '^src/catalog/capability\\.ts$', '(^|/)node_modules/zod/'] },
    },
    {
      name: 'nothing-imports-adapters',
      severity: 'error',
      comment: 'mcp/ and http/ translate wire formats; only the CLI starts them, and http/ mounts mcp/',
      from: { path: '^src/', pathNot: ['^src/(mcp|http)/', '^src/cli\\.ts$'] },
      to: { path: '^src/(mcp|http)/' },
    },
    {
      name: 'services-do-not-import-the-pipeline',
      severity: 'error',
      from: { path: '^src/(payments|images|providers|tasks|catalog)/' },
      to: { path: '^src/(call\\.ts|calls/)' },
    },
    {
      name: 'providers-stay-out-of-money-and-transports',
      severity: 'error',
      comment: 'a provider turns arguments into results; payments and wire formats are not its business',
      from: { path: '^src/providers/' },
      to: { path: '^src/(payments|tasks|mcp|http)/' },
    },
    {
      name: 'catalog-is-below-the-services',
      severity: 'error',
      comment: 'the catalog is built from the descriptors alone; services build on it, not the other way round',
      from: { path: '^src/catalog/' },
      to: { path: '^src/(images|providers|payments|tasks|limits|mcp|http|terminal)/' },
    },
    {
      name: 'payments-know-no-providers-or-images',
      severity: 'error',
      from: { path: '^src/payments/' },
      to: { path: '^src/(providers|images|mcp|http)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
  },
};
