// `npm run build` builds the browser code in web/ with esbuild into dist/web/ (shipped in the npm package):
// - result-view.html: the MCP App view `ui://imageseg/result`, one self-contained file (script and styles inline,
//   nothing fetched: hosts run it under a CSP with no outside origins);
// - console.js and console.css: the web console's script and styles, served by the same process under /assets/.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { build } from 'esbuild';
import { slimBundle } from '../web/result-view/slim-bundle.mjs';

const OUT = 'dist/web';
const common = { bundle: true, minify: true, target: 'es2022', logLevel: 'warning', legalComments: 'none', write: false };

async function bundled(entry, options = {}) {
  const { outputFiles } = await build({ ...common, entryPoints: [entry], outdir: OUT, ...options });
  return Object.fromEntries(outputFiles.map((file) => [file.path.slice(file.path.lastIndexOf('.') + 1), file.text]));
}

mkdirSync(OUT, { recursive: true });

const view = await bundled('web/result-view/main.ts', { format: 'iife', platform: 'browser', plugins: [slimBundle] });
const viewStyles = await bundled('web/result-view/view.css');
const template = readFileSync('web/result-view/index.html', 'utf8');
// Replaced by function so `$` in the minified code is not read as a replacement pattern.
const page = template.replace('/* styles */', () => viewStyles.css.trim()).replace('/* script */', () => view.js.trim().replaceAll('</script', '<\\/script'));
writeFileSync(`${OUT}/result-view.html`, page);

const consoleScript = await bundled('web/console/main.ts', { format: 'esm', platform: 'browser' });
const consoleStyles = await bundled('web/console/console.css');
writeFileSync(`${OUT}/console.js`, consoleScript.js);
writeFileSync(`${OUT}/console.css`, consoleStyles.css);
console.log(`web: result-view.html ${(page.length / 1024).toFixed(1)} KB, console.js ${(consoleScript.js.length / 1024).toFixed(1)} KB`);
