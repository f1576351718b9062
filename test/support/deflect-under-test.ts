/**
 * Starts the real deflect server (startServer) on a loopback port with a fresh SQLite file, optionally pointed at a
 * fake Jira, and posts signed webhooks to it. Used by route and end-to-end tests.
 */
import { randomUUID } from 'node:crypto';
import { join, resolve } from 'node:path';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { signBody } from '../../src/trackers/jira/verify-delivery.js';
import type { FakeJira } from './fake-jira.js';
import { freshDatabase, type TestDatabase } from './test-backend.js';

export const REPO_ROOT = resolve(import.meta.dirname, '../..');
export const EXAMPLE_RULES = join(REPO_ROOT, 'examples/rules.yaml');
export const TEST_SECRET = 'It is a secret to everybody';
/**
 * The Jira site of the example payloads and test events (their `self` URLs). A deflect pointed at a fake Jira on
 * 127.0.0.1 gets it as JIRA_SITE_URL, so it acts on these events (events from any other site are never routed).
 */
export const EXAMPLE_SITE = 'https://acme-example.atlassian.net';

export { freshDir } from './dirs.js';

export interface DeflectUnderTest extends RunningServer {
  /** The SQLite file on SQLite; on PostgreSQL a path in the database's fresh folder (see {@link TestDatabase}). */
  dbPath: string;
  /** The database this deflect runs on, with raw SQL for assertions that no answer shows. */
  database: TestDatabase;
}

/**
 * Starts deflect with `env` on top of test defaults (127.0.0.1, port 0, example rules, TEST_SECRET, fake Jira creds)
 * on a fresh database of the run's backend (test-backend.ts), or on `options.database` (a restart on the same data).
 */
export async function startDeflect(options: { env?: Record<string, string>; fakeJira?: FakeJira; database?: TestDatabase } = {}): Promise<DeflectUnderTest> {
  const database = options.database ?? (await freshDatabase());
  const env: Record<string, string> = {
    HOST: '127.0.0.1',
    PORT: '0',
    ...database.env,
    DEFLECT_RULES: EXAMPLE_RULES,
    DEFLECT_WEBHOOK_SECRET: TEST_SECRET,
    DEFLECT_LOG_LEVEL: 'silent',
    ...(options.fakeJira
      ? { JIRA_BASE_URL: options.fakeJira.url, JIRA_SITE_URL: EXAMPLE_SITE, JIRA_EMAIL: 'bot@example.test', JIRA_API_TOKEN: 'test-token', JIRA_ACCOUNT_ID: 'deflect-bot' }
      : {}),
    ...options.env,
  };
  const config = loadConfig(env, () => false);
  const server = await startServer(config, createLogger(config.logLevel));
  return Object.assign(server, { dbPath: database.dbPath, database });
}

export interface PostOptions {
  secret?: string | null;
  identifier?: string | null;
  headers?: Record<string, string>;
}

/** POSTs `body` (object or raw string/Buffer) to `/webhooks/jira`, signed with TEST_SECRET unless `secret: null`. */
export async function postWebhook(baseUrl: string, body: unknown, options: PostOptions = {}): Promise<{ status: number; json: any }> {
  const raw = typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  const secret = options.secret === undefined ? TEST_SECRET : options.secret;
  if (secret) headers['x-hub-signature'] = signBody(raw, secret);
  const identifier = options.identifier === undefined ? randomUUID() : options.identifier;
  if (identifier) headers['x-atlassian-webhook-identifier'] = identifier;
  const response = await fetch(`${baseUrl}/webhooks/jira`, { method: 'POST', headers: { ...headers, ...options.headers }, body: raw as string });
  const text = await response.text();
  let json: unknown = null;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: response.status, json };
}

/** Polls `check` every 20 ms until it returns a truthy value or `timeoutMs` passes. @throws Error with `what`. */
export async function waitFor<T>(what: string, check: () => T | Promise<T>, timeoutMs = 10_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * Env for a deflect (child process or in-process) on `database` (a {@link TestDatabase}, or a SQLite file path),
 * pointed at `jira`, with the example rules.
 */
export function deflectEnv(database: string | TestDatabase, jira: FakeJira, extra: Record<string, string> = {}): Record<string, string> {
  return {
    ...(typeof database === 'string' ? { DEFLECT_DB: database } : database.env),
    DEFLECT_RULES: EXAMPLE_RULES,
    DEFLECT_WEBHOOK_SECRET: TEST_SECRET,
    JIRA_BASE_URL: jira.url,
    JIRA_SITE_URL: EXAMPLE_SITE,
    JIRA_EMAIL: 'bot@example.test',
    JIRA_API_TOKEN: 'test-token',
    JIRA_ACCOUNT_ID: 'deflect-bot',
    ...extra,
  };
}
