/**
 * Runs `deflect serve` as a child process (node + tsx on the TypeScript sources), so tests can SIGKILL and restart
 * the real server. The child logs JSON lines; the URL is read from its "deflect listening" line.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from './deflect-under-test.js';

export interface DeflectProcess {
  child: ChildProcess;
  url: string;
  /** Every stdout/stderr line so far. */
  output: string[];
  /** Sends `signal` and resolves with the exit code/signal once the process is gone. */
  kill(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Spawns `deflect serve` with `env` (merged over PATH/HOME) and waits until it listens (default 20 s). `command`
 * replaces how it is started (e.g. `['npm', 'start']`, which runs the built `bin/deflect.js serve`).
 */
export async function spawnDeflect(env: Record<string, string>, timeoutMs = 20_000, command?: [string, ...string[]]): Promise<DeflectProcess> {
  const [executable, ...args] = command ?? [process.execPath, '--import', 'tsx', join(REPO_ROOT, 'src/cli/main.ts'), 'serve', '--grace', '2000'];
  const child = spawn(executable, args, {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', HOST: '127.0.0.1', PORT: '0', DEFLECT_LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`deflect did not start within ${timeoutMs} ms:\n${output.join('\n')}`)), timeoutMs);
    const onData = (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) {
        output.push(line);
        const match = /"url":"(http:\/\/[^"]+)".*"msg":"deflect listening"/.exec(line);
        if (match) {
          clearTimeout(timer);
          resolve(match[1]);
        }
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`deflect exited with ${code} before listening:\n${output.join('\n')}`));
    });
  });
  return {
    child,
    url,
    output,
    async kill(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/**
 * Runs one `deflect <args>` command (node + tsx on the sources) with only `env` (plus PATH) and resolves with its exit
 * status and output. Asynchronous: a fake tracker answering from this process keeps working meanwhile.
 */
export function runDeflectCli(env: Record<string, string>, ...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'src/cli/main.ts'), ...args], { env: { PATH: process.env.PATH ?? '', ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}
