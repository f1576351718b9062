/**
 * Shared pieces of the reliability tests: a seeded PRNG, Jira event bodies for the `grant-repo-access` handler (a
 * GitHub call, a comment and a transition to Done, with a fake GitHub) and for the `reset-ci-token` handler (one
 * comment), the env that points a deflect child process at a fake Jira and a fake GitHub, a CLI runner, and a
 * read-only view of a deflect database from the test process.
 */
import Database from 'better-sqlite3';
import { ACTION_PROPERTY_KEY } from '../../src/trackers/jira/jira-ticket-ops.js';
import { EXAMPLE_SITE } from '../support/deflect-under-test.js';
export { deflectEnv } from '../support/deflect-under-test.js';
import { seededRandom } from '../support/seeded-random.js';

export { seededRandom };
import type { FakeComment, FakeJira } from '../support/fake-jira.js';
import type { FakeGitHub } from '../support/fake-github.js';


/** A deterministic number in [0, 1) for a string key and a seed (FNV-1a, then mixed): the same key, the same draw. */
export function hashUnit(key: string, seed: number): number {
  let h = 0x811c9dc5 ^ seed;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return seededRandom(h >>> 0)();
}

/** Site of the example payloads; part of every delivery key. */
export const SITE = EXAMPLE_SITE;

/**
 * A signed-able `jira:issue_created` body for issue `key` carrying label `ci-token`, so the example rules route it to
 * `reset-ci-token` (one comment with the rotation runbook; no transition: deflect rotates nothing itself).
 */
export function tokenResetEvent(key: string, id: string, overrides: { timestamp?: number; labels?: string[]; actor?: string; summary?: string } = {}) {
  return {
    timestamp: overrides.timestamp ?? Date.now(),
    webhookEvent: 'jira:issue_created',
    issue_event_type_name: 'issue_created',
    user: { self: `${SITE}/rest/api/2/user?accountId=${overrides.actor ?? 'dev-1'}`, accountId: overrides.actor ?? 'dev-1', displayName: 'Dev One' },
    issue: {
      id,
      self: `${SITE}/rest/api/2/issue/${id}`,
      key,
      fields: {
        issuetype: { id: '10002', name: 'Task', subtask: false },
        project: { id: '10000', key: key.split('-')[0], name: 'Platform' },
        summary: overrides.summary ?? `Reset the deploy token for ${key}`,
        description: 'Please rotate it.\n\nToken: DEPLOY_TOKEN\nSystem: github-actions\nReason: expired',
        labels: overrides.labels ?? ['ci-token'],
        status: { id: '10000', name: 'To Do' },
        reporter: { accountId: 'dev-1', displayName: 'Dev One' },
        created: '2026-11-21T09:40:00.000+0100',
        updated: '2026-11-21T09:40:00.000+0100',
      },
    },
    changelog: { id: '1', items: [] },
  };
}

/** The GitHub user {@link accessRequestEvent} asks access for on issue `key`: `dev-<key in lower case>`. */
export const accessRequestUser = (key: string) => `dev-${key.toLowerCase()}`;

/**
 * A signed-able `jira:issue_created` body for issue `key` carrying label `access-request`, so the example rules route it
 * to `grant-repo-access`: with a fake GitHub configured ({@link githubEnv}), one `github.add_collaborator` call
 * (write on `acme/payments-api` for {@link accessRequestUser}), one comment, one transition to Done.
 */
export function accessRequestEvent(key: string, id: string, overrides: { timestamp?: number; labels?: string[] } = {}) {
  const event = tokenResetEvent(key, id, { ...overrides, labels: overrides.labels ?? ['access-request'], summary: `Write access to payments-api for ${key}` });
  event.issue.fields.description = `Please add me.\n\nRepository: acme/payments-api\nPermission: write\nGitHub User: ${accessRequestUser(key)}`;
  return event;
}

/** The env that points deflect's handlers at `github`. */
export function githubEnv(github: FakeGitHub): Record<string, string> {
  return { GITHUB_TOKEN: github.token, GITHUB_API_URL: github.url };
}

/** Runs `deflect <args>` from the sources (test/support/run-cli.ts). */
export { runCli } from '../support/run-cli.js';

/** Runs `query` on a short-lived read-only connection to the database at `dbPath` (safe next to a live server: WAL). */
export function readDb<T>(dbPath: string, query: (db: Database.Database) => T): T {
  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  try {
    return query(db);
  } finally {
    db.close();
  }
}

/** The idempotency key in a comment's `deflect.action` property, or null for a comment deflect did not post. */
export function actionKeyOf(comment: FakeComment): string | null {
  const property = comment.properties.find((p) => p.key === ACTION_PROPERTY_KEY);
  const key = (property?.value as { idempotencyKey?: unknown } | undefined)?.idempotencyKey;
  return typeof key === 'string' ? key : null;
}
