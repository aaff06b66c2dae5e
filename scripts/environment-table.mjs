// Rewrites the environment table (between <!-- environment:start --> and <!-- environment:end -->) in whichever of
// README.md and docs/*.md holds the markers, from the schema in src/config-environment.ts; run by `npm run docs:env`.
// test/configuration-docs.test.ts fails while the file is out of date.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { ENVIRONMENT_MARKERS, withEnvironmentTable } from '../dist/src/config-environment-docs.js';

const candidates = ['README.md', ...(existsSync('docs') ? readdirSync('docs').filter((name) => name.endsWith('.md')).map((name) => `docs/${name}`) : [])];
const holders = candidates.filter((file) => readFileSync(file, 'utf8').includes(ENVIRONMENT_MARKERS.start));
if (holders.length !== 1) {
  console.error(`expected one of ${candidates.join(', ')} to hold ${ENVIRONMENT_MARKERS.start}, found ${holders.length}`);
  process.exit(1);
}
const [file] = holders;
const updated = withEnvironmentTable(readFileSync(file, 'utf8'));
if (updated === undefined) {
  console.error(`${file}: ${ENVIRONMENT_MARKERS.end} must follow ${ENVIRONMENT_MARKERS.start}`);
  process.exit(1);
}
writeFileSync(file, updated);
console.log(`${file}: environment table rewritten`);
