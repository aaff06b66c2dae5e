import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

const INITIALIZE = `${JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'imageseg-bench', version: '1.0.0' } },
})}\n`;

export interface StdioStart {
  /** From spawn to the initialize answer on stdout. */
  ms: number;
  child: ChildProcess;
  stop(): Promise<void>;
}

/**
 * Spawns an MCP stdio server, writes `initialize` at once (the pipe holds it until the server reads) and resolves
 * when the answer arrives. The caller stops the child.
 */
export function startStdio(args: string[], options: { cwd: string; environment: Record<string, string> }): Promise<StdioStart> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, args, {
      cwd: options.cwd,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...options.environment },
      stdio: ['pipe', 'pipe', 'ignore'],
    });
    const exited = new Promise<void>((done) => child.once('exit', () => done()));
    const stop = async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    };
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`${args.join(' ')}: no initialize answer within 20 s`));
    }, 20_000);
    child.once('error', reject);
    child.stdin.on('error', () => undefined);
    child.stdin.write(INITIALIZE);
    const lines = createInterface({ input: child.stdout });
    lines.on('line', (line) => {
      let message: { id?: unknown; result?: unknown } | undefined;
      try {
        message = JSON.parse(line) as { id?: unknown; result?: unknown };
      } catch {
        return;
      }
      if (message.id !== 1) return;
      clearTimeout(timer);
      lines.close();
      if (!message.result) return reject(new Error(`${args.join(' ')}: initialize failed: ${line.slice(0, 300)}`));
      resolve({ ms: performance.now() - started, child, stop });
    });
  });
}
