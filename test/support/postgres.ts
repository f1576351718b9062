/**
 * A real PostgreSQL for tests (decision 018). Each test file gets a fresh database of its own:
 * - with `DEFLECT_TEST_DATABASE_URL` set (CI: `.ci/run` starts a throwaway cluster), databases are created on that
 *   server through it (the URL names a user allowed to `CREATE DATABASE`) and dropped at the end;
 * - else, when PostgreSQL's server binaries are installed (`/usr/lib/postgresql/<version>/bin`, or `initdb` on PATH),
 *   the file starts its own throwaway cluster: `initdb` into a temp folder (as the `postgres` OS user when running as
 *   root, since initdb refuses root), `pg_ctl start` on a free loopback port with its Unix socket in the temp folder,
 *   password (SCRAM) authentication over TCP, fsync off; stopped and deleted at the end;
 * - else the PostgreSQL tests skip, saying why ({@link postgresUnavailable}).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

/** A database of its own on a test server. */
export interface TestPostgres {
  /** URL of the fresh database (with the password when the server wants one). */
  url: string;
  /** The password in the URLs (`''` when the server trusts), to check no output carries it. */
  password: string;
  /** Creates another fresh database on the same server; resolves with its URL. */
  createDatabase(): Promise<string>;
  /** Runs `text` on the database at `url` (default {@link url}) and resolves with the rows. */
  query<T extends pg.QueryResultRow = pg.QueryResultRow>(text: string, params?: unknown[], url?: string): Promise<T[]>;
  /** Drops the databases created, and stops and deletes a cluster this file started. */
  close(): Promise<void>;
}

/** Why PostgreSQL tests cannot run here, or null when they can. */
export function postgresUnavailable(env: NodeJS.ProcessEnv = process.env): string | null {
  if (env.DEFLECT_TEST_DATABASE_URL) return null;
  if (!serverBinaries()) return 'no DEFLECT_TEST_DATABASE_URL and no PostgreSQL server binaries (initdb, pg_ctl) installed';
  if (isRoot() && !postgresUser()) return 'running as root, and there is no `postgres` OS user to run initdb as';
  return null;
}

/**
 * Starts (or connects to) the test server and creates this file's database. @throws when {@link postgresUnavailable}.
 * @param options.durable start an own cluster with PostgreSQL's durable defaults (fsync, synchronous_commit,
 *   full_page_writes on) even when `DEFLECT_TEST_DATABASE_URL` is set: the benchmark compares durable commits.
 */
export async function startTestPostgres(env: NodeJS.ProcessEnv = process.env, options: { durable?: boolean } = {}): Promise<TestPostgres> {
  const reason = postgresUnavailable(options.durable ? { ...env, DEFLECT_TEST_DATABASE_URL: '' } : env);
  if (reason) throw new Error(`PostgreSQL tests cannot run: ${reason}`);
  const server = env.DEFLECT_TEST_DATABASE_URL && !options.durable ? { adminUrl: env.DEFLECT_TEST_DATABASE_URL, stop: async () => {} } : await startCluster(options.durable ?? false);
  const created: string[] = [];
  const password = decodeURIComponent(new URL(server.adminUrl).password);
  const createDatabase = async () => {
    const name = `deflect_test_${randomBytes(6).toString('hex')}`;
    await adminQuery(server.adminUrl, `CREATE DATABASE ${name} ENCODING 'UTF8' TEMPLATE template0`);
    created.push(name);
    const url = new URL(server.adminUrl);
    url.pathname = `/${name}`;
    return url.href;
  };
  const url = await createDatabase();
  return {
    url,
    password,
    createDatabase,
    async query(text, params = [], target = url) {
      const client = new pg.Client({ connectionString: target });
      await client.connect();
      try {
        return (await client.query(text, params)).rows;
      } finally {
        await client.end();
      }
    },
    async close() {
      for (const name of created) await adminQuery(server.adminUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => {});
      await server.stop();
    },
  };
}

async function adminQuery(adminUrl: string, text: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

/** initdb + pg_ctl start in a temp folder; resolves with the superuser URL and how to stop. */
export async function startCluster(durable: boolean): Promise<{ adminUrl: string; stop: () => Promise<void> }> {
  const bin = serverBinaries()!;
  const dir = mkdtempSync(join(tmpdir(), 'deflect-pg-'));
  const owner = isRoot() ? postgresUser() : null;
  const run = (program: string, args: string[]) => {
    const [command, argv] = owner ? ['runuser', ['-u', 'postgres', '--', join(bin, program), ...args]] : [join(bin, program), args];
    return execFileSync(command, argv, { stdio: 'pipe', encoding: 'utf8' });
  };
  if (owner) chownSync(dir, owner.uid, owner.gid);
  const password = randomBytes(12).toString('hex');
  const pwfile = join(dir, 'pw');
  writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
  if (owner) chownSync(pwfile, owner.uid, owner.gid);
  const data = join(dir, 'data');
  run('initdb', ['-D', data, '-U', 'postgres', '--pwfile', pwfile, '--auth-local=trust', '--auth-host=scram-sha-256', '-E', 'UTF8', '--no-locale', '--no-sync']);
  rmSync(pwfile);
  const port = await freePort();
  const serverOptions = `-p ${port} -c listen_addresses=127.0.0.1 -k ${dir}${durable ? '' : ' -c fsync=off -c synchronous_commit=off -c full_page_writes=off'}`;
  run('pg_ctl', ['-D', data, '-l', join(dir, 'server.log'), '-w', '-t', '60', '-o', serverOptions, 'start']);
  let stopped = false;
  const stopNow = () => {
    if (stopped) return;
    stopped = true;
    const [command, argv] = owner ? ['runuser', ['-u', 'postgres', '--', join(bin, 'pg_ctl'), '-D', data, '-m', 'immediate', '-w', 'stop']] : [join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop']];
    spawnSync(command, argv, { stdio: 'ignore' });
    rmSync(dir, { recursive: true, force: true });
  };
  // A test process that dies without its afterAll still stops the server.
  process.once('exit', stopNow);
  return { adminUrl: `postgres://postgres:${password}@127.0.0.1:${port}/postgres`, stop: async () => stopNow() };
}

/** The folder holding initdb and pg_ctl, or null. */
function serverBinaries(): string | null {
  const root = '/usr/lib/postgresql';
  if (existsSync(root)) {
    const versions = readdirSync(root).filter((v) => existsSync(join(root, v, 'bin/initdb'))).sort((a, b) => Number(b) - Number(a));
    if (versions.length > 0) return join(root, versions[0], 'bin');
  }
  const found = spawnSync('sh', ['-c', 'command -v initdb'], { encoding: 'utf8' }).stdout.trim();
  return found ? found.replace(/\/initdb$/, '') : null;
}

function isRoot(): boolean {
  return process.getuid?.() === 0;
}

function postgresUser(): { uid: number; gid: number } | null {
  const id = (flag: string) => spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' });
  const uid = id('-u');
  const gid = id('-g');
  return uid.status === 0 && gid.status === 0 ? { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) } : null;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
