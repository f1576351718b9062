/**
 * Payloads the bench sends. Real ones are read in place from ../shared/fixtures when that folder exists (never
 * copied into the project); otherwise the project's own examples/payloads are used, padded to the same size with a
 * realistic description, so the bench still runs on a clone without ../shared.
 */
import { createHmac } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './processes.js';

/** ../shared/fixtures; BENCH_SHARED_DIR=<dir> points elsewhere (e.g. a missing folder, to try the fallback). */
export const SHARED_FIXTURES = process.env.BENCH_SHARED_DIR ?? join(REPO_ROOT, '../shared/fixtures');
/** A real Jira Server webhook (`jira:issue_updated`, resolved), 13.4 KB: the closest real fixture to ~14 KB. */
const JIRA_FIXTURE = join(SHARED_FIXTURES, 'jira-webhooks/mattermost-plugin-jira__webhook-server-issue-updated-resolved.json');
/** A real GitHub `issues.labeled` delivery (octokit/webhooks), 13.8 KB. */
const GITHUB_FIXTURE = join(SHARED_FIXTURES, 'github-webhooks/octokit-webhooks__issues.labeled.payload.json');
/** A real Jira export (10,052 issues of the Fluid project, REST shape, one per line). */
export const FLUID_CORPUS = join(SHARED_FIXTURES, 'tickets/fluid-jira-issues.jsonl');
const TARGET_BYTES = 14_000;

export interface Payload {
  body: string;
  /** Where it came from, for the report. */
  source: string;
  bytes: number;
}

const PARAGRAPHS = [
  'Steps to reproduce: open the deployment pipeline for the service, trigger a build from the main branch and wait for the publish stage. The job fails with "401 Unauthorized" when it pushes the image to the registry.',
  'What I expected: the pipeline publishes the image and deploys it to staging like it did last week. What happened instead: the publish step retried three times and then failed, and the deploy stage was skipped.',
  'Environment: production cluster eu-west-1, runner pool linux-large, image builder v2.14. The token was created by the previous team lead who has since moved to another team, so we do not know who owns it now.',
  'Impact: the team cannot ship the fee-calculation fix that customers are waiting for. We have a workaround (manual deploy from a laptop) but it bypasses the audit trail, so we would rather not use it.',
  'Additional context: the same error started on two other repositories of the payments group this morning. Links to the failed runs and the relevant part of the log are below; let me know if you need anything else.',
];

/** Pads `text` with realistic paragraphs until the whole body reaches `targetBytes`. */
function padded(base: Record<string, unknown>, setText: (obj: Record<string, unknown>, text: string) => void, start: string, targetBytes: number): string {
  let text = start;
  for (let i = 0; ; i++) {
    setText(base, text);
    const body = JSON.stringify(base, null, 2);
    if (Buffer.byteLength(body) >= targetBytes) return body;
    text += `\n\n${PARAGRAPHS[i % PARAGRAPHS.length]}`;
  }
}

const fromBody = (body: string, source: string): Payload => ({ body, source, bytes: Buffer.byteLength(body) });

/** The ~14 KB Jira webhook used for the ingest scenario. */
export function jiraIngestPayload(): Payload {
  if (existsSync(JIRA_FIXTURE)) return fromBody(readFileSync(JIRA_FIXTURE, 'utf8'), '../shared/fixtures/jira-webhooks/…server-issue-updated-resolved.json');
  const example = JSON.parse(readFileSync(join(REPO_ROOT, 'examples/payloads/02-new-repo-label-added.json'), 'utf8')) as Record<string, unknown>;
  const issue = example.issue as { fields: Record<string, unknown> };
  const body = padded(example, (_o, text) => (issue.fields.description = text), String(issue.fields.description ?? ''), TARGET_BYTES);
  return fromBody(body, 'examples/payloads/02-new-repo-label-added.json, description padded (../shared absent)');
}

/** The GitHub `issues.labeled` delivery the Probot peer receives (similar size). */
export function githubLabeledPayload(): Payload {
  if (existsSync(GITHUB_FIXTURE)) return fromBody(readFileSync(GITHUB_FIXTURE, 'utf8'), '../shared/fixtures/github-webhooks/octokit-webhooks__issues.labeled.payload.json');
  const repository = { id: 186853002, node_id: 'MDEwOlJlcG9zaXRvcnkxODY4NTMwMDI=', name: 'payments-api', full_name: 'acme/payments-api', private: true };
  const user = { login: 'jdoe-acme', id: 21031067, node_id: 'MDQ6VXNlcjIxMDMxMDY3', type: 'User', site_admin: false };
  const base: Record<string, unknown> = {
    action: 'labeled',
    issue: { id: 444500041, number: 1, title: 'CI token expired on payments-api', user, labels: [{ id: 1362934389, name: 'token-reset', color: 'd73a4a' }], state: 'open', body: '' },
    label: { id: 1362934389, name: 'token-reset', color: 'd73a4a' },
    repository,
    sender: user,
  };
  const body = padded(base, (o, text) => ((o.issue as { body: string }).body = text), 'The deploy token of payments-api expired.', TARGET_BYTES);
  return fromBody(body, 'synthetic issues.labeled built from examples (../shared absent)');
}

/** A routed Jira event (label `access-request` → grant-repo-access) for issue `key`/`id`, from examples/payloads/01. */
export function routedEventFactory(): (key: string, id: string, timestamp: number) => string {
  const template = readFileSync(join(REPO_ROOT, 'examples/payloads/01-access-request-created.json'), 'utf8');
  const parsed = JSON.parse(template) as { issue: { key: string; id: string } };
  const { key, id } = parsed.issue;
  return (newKey, newId, timestamp) =>
    template
      .replaceAll(`"${key}"`, `"${newKey}"`)
      .replaceAll(`/issue/${id}"`, `/issue/${newId}"`)
      .replaceAll(`"id": "${id}"`, `"id": "${newId}"`)
      .replace(/"timestamp": \d+/, `"timestamp": ${timestamp}`);
}

/** `sha256=<hex>`: the value of Jira's `X-Hub-Signature` (and GitHub's `X-Hub-Signature-256`). */
export const sign = (body: string, secret: string): string => `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
