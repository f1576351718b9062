/**
 * Child processes for the bench: every server under test runs in its own process on 127.0.0.1, so the load
 * generator (this process) never shares its event loop. Helpers to pick a free port, spawn a server and wait
 * until it answers, read its peak RSS (`VmHWM` in /proc/<pid>/status, which the kernel keeps at the maximum
 * resident set size the process ever had), and stop it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/** The repository root (bench/lib → ../..). */
export const REPO_ROOT = resolve(import.meta.dirname, '../..');

/** A minimal environment for children: nothing from the caller's shell leaks in (no stray JIRA_* pointing at a real site). */
export function baseEnv(extra: Record<string, string> = {}): Record<string, string> {
  const keep = ['PATH', 'HOME', 'TMPDIR', 'LANG', 'TZ'];
  const env: Record<string, string> = {};
  for (const name of keep) if (process.env[name]) env[name] = process.env[name]!;
  return { ...env, NODE_ENV: 'production', ...extra };
}

/** A fresh temporary folder under the OS temp dir; `cleanup()` removes it. */
export function tempDir(prefix: string): { path: string; cleanup(): void } {
  const base = join(tmpdir(), 'deflect-bench');
  mkdirSync(base, { recursive: true });
  const path = mkdtempSync(join(base, prefix));
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) };
}

/** A TCP port that was free a moment ago on 127.0.0.1 (the child binds it right after). */
export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolvePort(port));
    });
  });
}

/** Peak resident set size of a live process in MB (VmHWM), or null where /proc is unavailable. */
export function peakRssMb(pid: number): number | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = /^VmHWM:\s+(\d+)\s+kB/m.exec(status);
    return match ? Number(match[1]) / 1024 : null;
  } catch {
    return null;
  }
}

export interface ServiceProcess {
  name: string;
  child: ChildProcess;
  pid: number;
  url: string;
  /** Last lines the process wrote (stdout and stderr), for error messages. */
  output: string[];
  /** Peak RSS so far, MB (read it before stopping). */
  peakRssMb(): number | null;
  /** Sends `signal` (default SIGTERM) and waits for the exit (SIGKILL after `timeoutMs`). */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<void>;
}

export interface SpawnServiceOptions {
  name: string;
  /** Arguments after `node` (e.g. `['--import', 'tsx', 'src/cli/main.ts', 'serve']`). */
  args: string[];
  env: Record<string, string>;
  port: number;
  /** Polled with GET until it answers below 500 (default `/`: any answer means listening). */
  readyPath?: string;
  timeoutMs?: number;
}

/** Spawns a server process and resolves once `readyPath` answers. @throws with its output when it exits or times out. */
export async function spawnService(options: SpawnServiceOptions): Promise<ServiceProcess> {
  const child = spawn(process.execPath, options.args, { cwd: REPO_ROOT, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  const collect = (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) {
      output.push(line.length > 500 ? `${line.slice(0, 500)}…` : line);
      if (output.length > 50) output.shift();
    }
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  let gone = false;
  void exited.then(() => (gone = true));

  const url = `http://127.0.0.1:${options.port}`;
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  for (;;) {
    if (gone) throw new Error(`${options.name} exited before it was ready:\n${output.join('\n')}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${options.name} not ready within ${options.timeoutMs ?? 30_000} ms:\n${output.join('\n')}`);
    }
    try {
      const response = await fetch(`${url}${options.readyPath ?? '/'}`, { signal: AbortSignal.timeout(1000) });
      await response.arrayBuffer();
      if (response.status < 500) break;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }

  return {
    name: options.name,
    child,
    pid: child.pid!,
    url,
    output,
    peakRssMb: () => peakRssMb(child.pid!),
    async stop(signal = 'SIGTERM', timeoutMs = 15_000) {
      if (gone) return;
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/**
 * Runs a node script to completion; resolves with its stdout, wall time and exit code. `options.progress`: a label;
 * the child's stderr lines (its progress) are then also echoed to this process's stderr, prefixed with it.
 */
export async function runNode(
  args: string[],
  env: Record<string, string>,
  timeoutMs = 300_000,
  options: { progress?: string } = {},
): Promise<{ code: number | null; stdout: string; stderr: string; wallMs: number }> {
  const started = performance.now();
  const child = spawn(process.execPath, args, { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  let partial = '';
  child.stdout!.on('data', (c: Buffer) => out.push(c));
  child.stderr!.on('data', (c: Buffer) => {
    err.push(c);
    if (!options.progress) return;
    const lines = (partial + c.toString('utf8')).split(/\r?\n|\r/);
    partial = lines.pop() ?? '';
    for (const line of lines) if (line.trim()) process.stderr.write(`  ${options.progress}: ${line.trim()}\n`);
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const code = await new Promise<number | null>((done) => child.once('close', (c) => done(c)));
  clearTimeout(timer);
  return { code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), wallMs: performance.now() - started };
}

/** The `node` arguments that run a TypeScript file of this repository (through tsx). */
export const tsNode = (file: string, ...rest: string[]): string[] => ['--import', 'tsx', join(REPO_ROOT, file), ...rest];
