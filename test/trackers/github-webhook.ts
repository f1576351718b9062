/** Posting GitHub webhooks to a deflect under test, signed as GitHub signs them (X-Hub-Signature-256). */
import { randomUUID } from 'node:crypto';
import { signGitHubBody } from '../../src/trackers/github/verify-github-delivery.js';

export const GITHUB_TEST_SECRET = 'a GitHub webhook secret for tests';

export interface GitHubPostOptions {
  /** `X-GitHub-Event` (default `issues`). */
  event?: string;
  /** Signing secret (default {@link GITHUB_TEST_SECRET}); null sends no signature. */
  secret?: string | null;
  /** `X-GitHub-Delivery` (default a fresh GUID); null sends none. */
  delivery?: string | null;
  headers?: Record<string, string>;
}

/** POSTs `body` (object, or raw string/Buffer sent byte for byte) to `/webhooks/github`. */
export async function postGitHubWebhook(baseUrl: string, body: unknown, options: GitHubPostOptions = {}): Promise<{ status: number; json: any }> {
  const raw = typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
  const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'GitHub-Hookshot/test', 'x-github-event': options.event ?? 'issues' };
  const secret = options.secret === undefined ? GITHUB_TEST_SECRET : options.secret;
  if (secret) headers['x-hub-signature-256'] = signGitHubBody(raw, secret);
  const delivery = options.delivery === undefined ? randomUUID() : options.delivery;
  if (delivery) headers['x-github-delivery'] = delivery;
  const response = await fetch(`${baseUrl}/webhooks/github`, { method: 'POST', headers: { ...headers, ...options.headers }, body: raw as string });
  const text = await response.text();
  let json: unknown = text;
  try {
    json = JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return { status: response.status, json };
}
