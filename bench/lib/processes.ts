import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, openSync, closeSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (this file runs as dist/bench/lib/processes.js). */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const CLI = path.join(ROOT, 'dist', 'cli.js');
export const RESULTS_DIR = path.join(ROOT, 'bench', 'results');

/** Set by `--profile`: every server child runs with --cpu-prof into bench/results/profiles/. */
export const profiling = { enabled: false, directory: path.join(RESULTS_DIR, 'profiles') };

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export interface ServerProcess {
  url: string;
  child: ChildProcess;
  logFile: string;
  /** Resident set size now, from /proc (bytes). */
  rss(): number;
  /** Peak resident set size since start (VmHWM, bytes). */
  peakRss(): number;
  stop(): Promise<void>;
}

function procStatusBytes(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
  return match ? Number(match[1]) * 1024 : Number.NaN;
}

export const rssOf = (pid: number) => procStatusBytes(pid, 'VmRSS');

/** CPU seconds (user + system) a process has used so far, from /proc (clock ticks of 1/100 s, Linux's USER_HZ). */
export function cpuSecondsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}
export const peakRssOf = (pid: number) => procStatusBytes(pid, 'VmHWM');

/** Resets the kernel's peak-RSS mark of a process; false where the kernel does not allow it. */
export function resetPeak(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

/**
 * Starts an HTTP server child (`node <entry> http --port P`, by default the product's own CLI), logs to a file as a
 * deployment would, and resolves once /healthz answers.
 */
export async function startServer(options: { name: string; environment: Record<string, string>; entry?: string; workDirectory: string }): Promise<ServerProcess> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  mkdirSync(options.workDirectory, { recursive: true });
  const logFile = path.join(options.workDirectory, `${options.name}.log`);
  const log = openSync(logFile, 'a');
  const nodeFlags = profiling.enabled ? ['--cpu-prof', `--cpu-prof-dir=${profiling.directory}`, `--cpu-prof-name=${options.name}-${Date.now()}.cpuprofile`] : [];
  if (profiling.enabled) mkdirSync(profiling.directory, { recursive: true });
  const child = spawn(process.execPath, [...nodeFlags, options.entry ?? CLI, 'http', '--host', '127.0.0.1', '--port', String(port)], {
    cwd: options.workDirectory,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...options.environment },
    stdio: ['ignore', log, log],
  });
  closeSync(log);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${options.name} exited with ${child.exitCode} before answering; see ${logFile}`);
    try {
      const response = await fetch(`${url}/healthz`);
      if (response.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${options.name} did not answer /healthz within 20 s; see ${logFile}`);
    await sleep(50);
  }
  return {
    url,
    child,
    logFile,
    rss: () => rssOf(child.pid!),
    peakRss: () => peakRssOf(child.pid!),
    async stop() {
      if (child.exitCode === null) child.kill('SIGINT');
      // SIGINT lets the CLI close its server and --cpu-prof write its profile.
      const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(killer);
    },
  };
}
