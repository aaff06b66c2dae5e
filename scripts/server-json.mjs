// Writes server.json (the MCP registry entry) from package.json and the catalog; test/discovery.test.ts checks it.
import { readFileSync, writeFileSync } from 'node:fs';
import { capabilities } from '../dist/tools/index.js';
import { registryEntryOf } from '../dist/src/catalog/registry-entry.js';
import { BATCH_TOOL } from '../dist/src/mcp/batch-tool.js';

const manifest = JSON.parse(readFileSync('package.json', 'utf8'));
const entry = registryEntryOf(manifest, [...capabilities.map((capability) => capability.tool), BATCH_TOOL]);
writeFileSync('server.json', `${JSON.stringify(entry, null, 2)}\n`);
