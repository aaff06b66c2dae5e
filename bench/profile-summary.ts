/**
 * Summarises a V8 .cpuprofile (from `node --cpu-prof`, e.g. `npm run bench -- --profile`): where the time went,
 * by owner (our src/, tools/, each npm package, Node internals, native/GC/idle) and by function.
 *
 *   node dist/bench/profile-summary.js bench/results/profiles/<file>.cpuprofile [--top 25] [--focus src/]
 *
 * "self" is time in the function itself; "incl." counts a sample once for every owner on its stack, which is how
 * much time would go if everything under that owner were free.
 */
import { existsSync, readFileSync } from 'node:fs';
import { SourceMap, type SourceMapPayload, type SourceMapping } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber?: number };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/** Our files: compiled (dist/src/...) or, through the bundle's source maps, the sources (src/...). */
const OURS = /\/(?:dist\/)?((?:src|tools|bench|test)\/(?:[^/]+\/)?)/;
const OURS_FILE = /\/(?:dist\/)?((?:src|tools|bench|test)\/.*)$/;

/**
 * Frames in a bundle (the CLI's dist/cli.js and dist/chunks/) named by the source file and line they came from,
 * through the source map beside the bundle; frames without a map are left as they are.
 */
export function throughSourceMaps(profile: Profile): Profile {
  const maps = new Map<string, SourceMap | null>();
  const mapOf = (file: string) => {
    if (!maps.has(file)) maps.set(file, existsSync(`${file}.map`) ? new SourceMap(JSON.parse(readFileSync(`${file}.map`, 'utf8')) as SourceMapPayload) : null);
    return maps.get(file)!;
  };
  const nodes = profile.nodes.map((node) => {
    const { url, lineNumber, columnNumber = 0 } = node.callFrame;
    const file = url.startsWith('file://') ? fileURLToPath(url) : null;
    // findEntry answers {} where no mapping covers the position.
    const entry: Partial<SourceMapping> | undefined = file ? mapOf(file)?.findEntry(lineNumber, columnNumber) : undefined;
    if (!file || entry?.originalSource === undefined) return node;
    return { ...node, callFrame: { ...node.callFrame, url: path.resolve(path.dirname(file), entry.originalSource), lineNumber: entry.originalLine ?? 0 } };
  });
  return { ...profile, nodes };
}

/** Who owns a frame: our code by folder, a package by name, or Node / V8 itself. */
export function ownerOf(url: string, functionName: string): string {
  if (!url) {
    if (functionName === '(idle)') return '(idle)';
    if (functionName === '(garbage collector)') return '(gc)';
    if (functionName === '(program)') return '(program: native, not JS)';
    return '(native)';
  }
  const modules = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (modules) return modules[1];
  if (url.startsWith('node:')) return 'node:' + url.slice(5).split('/')[0];
  const ours = OURS.exec(url);
  if (ours) return ours[1];
  return url;
}

/** A frame's file, short: `src/payments/gate.js`, `sharp/lib/output.js`, `node:internal/...`. */
function shortFile(url: string): string {
  const modules = /node_modules\/((?:@[^/]+\/)?[^/]+\/.*)$/.exec(url);
  if (modules) return modules[1];
  const ours = OURS_FILE.exec(url);
  return ours ? ours[1] : url;
}

const frameKey = (frame: ProfileNode['callFrame']) => `${frame.functionName || '(anonymous)'} ${frame.url ? shortFile(frame.url) : ownerOf(frame.url, frame.functionName)}:${frame.lineNumber + 1}`;

export function summarizeProfile(profile: Profile, options: { top: number; focus?: string }) {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const self = new Map<number, number>();
  profile.samples.forEach((id, index) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[index] ?? 0)));
  const total = [...self.values()].reduce((sum, value) => sum + value, 0);
  const idle = [...self.entries()].filter(([id]) => byId.get(id)!.callFrame.functionName === '(idle)').reduce((sum, [, value]) => sum + value, 0);

  const ownerSelf = new Map<string, number>();
  const ownerInclusive = new Map<string, number>();
  const functionSelf = new Map<string, number>();
  const functionInclusive = new Map<string, number>();
  for (const [id, time] of self) {
    const node = byId.get(id)!;
    const { functionName, url } = node.callFrame;
    const owner = ownerOf(url, functionName);
    ownerSelf.set(owner, (ownerSelf.get(owner) ?? 0) + time);
    const key = frameKey(node.callFrame);
    functionSelf.set(key, (functionSelf.get(key) ?? 0) + time);
    const seenOwners = new Set<string>();
    const seenFunctions = new Set<string>();
    for (let current: number | undefined = id; current !== undefined; current = parent.get(current)) {
      const frame = byId.get(current)!.callFrame;
      const frameOwner = ownerOf(frame.url, frame.functionName);
      if (frame.functionName === '(root)') continue;
      if (!seenOwners.has(frameOwner)) {
        seenOwners.add(frameOwner);
        ownerInclusive.set(frameOwner, (ownerInclusive.get(frameOwner) ?? 0) + time);
      }
      const key = frameKey(frame);
      if (!seenFunctions.has(key) && (!options.focus || frameOwner.startsWith(options.focus))) {
        seenFunctions.add(key);
        functionInclusive.set(key, (functionInclusive.get(key) ?? 0) + time);
      }
    }
  }
  const busy = total - idle;
  const rank = (map: Map<string, number>) => [...map.entries()].sort((a, b) => b[1] - a[1]).slice(0, options.top);
  return { totalMs: total / 1000, busyMs: busy / 1000, ownerSelf: rank(ownerSelf), ownerInclusive: rank(ownerInclusive), functionSelf: rank(functionSelf), functionInclusive: rank(functionInclusive) };
}

function print(file: string, top: number, focus?: string): void {
  const profile = throughSourceMaps(JSON.parse(readFileSync(file, 'utf8')) as Profile);
  const summary = summarizeProfile(profile, { top, ...(focus ? { focus } : {}) });
  const share = (microseconds: number) => `${(microseconds / 1000).toFixed(0).padStart(7)} ms ${((100 * microseconds) / (summary.busyMs * 1000)).toFixed(1).padStart(5)}%`;
  const section = (title: string, rows: Array<[string, number]>) => {
    process.stdout.write(`\n${title}\n`);
    for (const [name, time] of rows) process.stdout.write(`  ${share(time)}  ${name}\n`);
  };
  process.stdout.write(`${file}\n  ${summary.totalMs.toFixed(0)} ms sampled, ${summary.busyMs.toFixed(0)} ms busy (percentages are of busy time)\n`);
  section('self time by owner', summary.ownerSelf);
  section('inclusive time by owner', summary.ownerInclusive);
  section('self time by function', summary.functionSelf);
  section(`inclusive time by function${focus ? ` (owners starting ${focus})` : ''}`, summary.functionInclusive);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string' }, focus: { type: 'string' } } });
  for (const file of positionals) print(file, Number(values.top ?? 25), values.focus);
}
