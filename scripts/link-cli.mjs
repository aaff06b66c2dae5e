// The compiled entry is dist/src/cli.js; DESIGN.md promises `node dist/cli.js`, so write that entry point.
import { chmodSync, writeFileSync } from 'node:fs';

writeFileSync('dist/cli.js', "#!/usr/bin/env node\nimport './src/cli.js';\n");
chmodSync('dist/cli.js', 0o755);
