import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** A real `node dist/cli.js http --port 0`, as an operator runs it, for what only a process shows (its memory). */
export interface ServerProcess {
  url: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

export async function spawnHttpServer(environment: Record<string, string>): Promise<ServerProcess> {
  const child = spawn(process.execPath, [path.resolve('dist/cli.js'), 'http', '--port', '0'], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...environment },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stderr.on('data', (chunk: Buffer) => {
      log = (log + chunk.toString()).slice(-20_000);
      const found = /"url":"(http:\/\/[^"]+)"/.exec(log);
      if (found) resolve(found[1]);
    });
    child.once('exit', () => reject(new Error(`server exited: ${log}`)));
  });
  return {
    url,
    child,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    },
  };
}

const MB = 1024 * 1024;

function statusField(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? (Number(match[1]) * 1024) / MB : 0;
}

/** A process and all its descendants (the local engine is a child of the server). */
export function processTree(pid: number): number[] {
  const parents = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parents.set(parent, [...(parents.get(parent) ?? []), Number(entry)]);
    } catch {
      // gone meanwhile
    }
  }
  const tree = [pid];
  for (let index = 0; index < tree.length; index += 1) tree.push(...(parents.get(tree[index]) ?? []));
  return tree;
}

/** MB resident now (VmRSS), or at the most since start or the last reset (VmHWM), summed over the tree; a process gone meanwhile counts 0. */
export function treeMegabytes(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  return processTree(pid).reduce((sum, member) => {
    try {
      return sum + statusField(member, field);
    } catch {
      return sum;
    }
  }, 0);
}

/** Starts each process's VmHWM again from its VmRSS (Linux: /proc/<pid>/clear_refs). */
export function resetPeaks(pid: number): void {
  for (const member of processTree(pid)) writeFileSync(`/proc/${member}/clear_refs`, '5');
}
