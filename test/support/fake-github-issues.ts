/**
 * The GitHub Issues part of the fake GitHub (`fake-github.ts` delegates to it): issues, comments, labels and
 * assignees of the repositories the fake knows, with GitHub's status codes, body shapes and `Link` paging.
 *
 * Mimicked (https://docs.github.com/en/rest/issues):
 * - `GET    /repos/{o}/{r}/issues` `?state=open|closed|all` (default open), `since` (ISO: updated at or after),
 *   `sort=created|updated`, `direction=asc|desc` (default created desc), `per_page` (≤ 100, default 30), `page`;
 *   pull requests are listed too (with `pull_request`), as GitHub does; `Link: <…>; rel="next"` while more remain.
 * - `GET    /repos/{o}/{r}/issues/{n}` → 200 issue; `PATCH` same path `{ state, state_reason, assignees, title, body }` → 200.
 * - `GET    /repos/{o}/{r}/issues/{n}/comments` (paged like the list) / `POST` `{ body }` → 201 comment.
 * - `POST   /repos/{o}/{r}/issues/{n}/labels` `{ labels }` → 200 the issue's labels; `DELETE …/labels/{name}` → 200
 *   the remaining labels, 404 `Label does not exist` when the issue does not have it.
 * - `POST` / `DELETE /repos/{o}/{r}/issues/{n}/assignees` `{ assignees }` → 201 / 200 issue.
 * Unknown repositories and issues answer 404 `{ message: 'Not Found' }`.
 */
import type { RecordedRequest } from './recorded-request.js';

/** One issue (or pull request) the fake holds. Dates are ISO strings, as GitHub sends them. */
export interface FakeIssue {
  id: number;
  repository: string;
  number: number;
  title: string;
  body: string | null;
  state: 'open' | 'closed';
  stateReason: string | null;
  labels: string[];
  assignees: string[];
  user: string;
  createdAt: string;
  updatedAt: string;
  closedAt: string | null;
  pullRequest: boolean;
  comments: FakeComment[];
}

export interface FakeComment {
  id: number;
  body: string;
  user: string;
  createdAt: string;
}

export interface SeedIssue {
  title?: string;
  body?: string | null;
  state?: 'open' | 'closed';
  labels?: string[];
  user?: string;
  /** ISO dates (default now). */
  createdAt?: string;
  updatedAt?: string;
  /** A pull request (listed by the issues API, but not an issue). */
  pullRequest?: boolean;
}

/** A route answer: status, body (undefined = empty) and extra headers. */
export type FakeAnswer = [number, unknown, Record<string, string>?];

export interface FakeIssueStore {
  /** Answers the request when it is an issues endpoint, else returns null (the caller routes it). */
  route(req: RecordedRequest): FakeAnswer | null;
  /** Adds an issue to `repository` (`owner/name`, which the fake must know), numbered after the last one. */
  seedIssue(repository: string, seed?: SeedIssue): FakeIssue;
  /** The stored issue, or undefined. */
  issue(repository: string, number: number): FakeIssue | undefined;
  /** Every issue of a repository, by number. */
  issues(repository: string): FakeIssue[];
}

const DOCS = 'https://docs.github.com/rest/issues';
const notFound = (): FakeAnswer => [404, { message: 'Not Found', documentation_url: DOCS, status: '404' }];

/**
 * Creates the store. `apiUrl` is the fake's root (for `url` / `repository_url` / `Link`); `canonical(owner, name)`
 * gives the known repository's `owner/name` or undefined; `nextId()` hands out ids.
 */
export function createFakeIssueStore(apiUrl: () => string, canonical: (owner: string, name: string) => string | undefined, nextId: () => number): FakeIssueStore {
  const byRepo = new Map<string, FakeIssue[]>();
  const now = () => new Date().toISOString();
  const listOf = (repository: string) => byRepo.get(repository.toLowerCase()) ?? [];

  function seedIssue(repository: string, seed: SeedIssue = {}): FakeIssue {
    const [owner, name] = repository.split('/');
    const full = canonical(owner, name);
    if (!full) throw new Error(`fake GitHub: unknown repository ${repository} (seedRepository first)`);
    const list = listOf(full);
    const created = seed.createdAt ?? now();
    const issue: FakeIssue = {
      id: nextId(),
      repository: full,
      number: list.length + 1,
      title: seed.title ?? 'An issue',
      body: seed.body === undefined ? null : seed.body,
      state: seed.state ?? 'open',
      stateReason: null,
      labels: [...(seed.labels ?? [])],
      assignees: [],
      user: seed.user ?? 'octocat',
      createdAt: created,
      updatedAt: seed.updatedAt ?? created,
      closedAt: seed.state === 'closed' ? created : null,
      pullRequest: seed.pullRequest ?? false,
      comments: [],
    };
    byRepo.set(full.toLowerCase(), [...list, issue]);
    return issue;
  }

  const issueJson = (i: FakeIssue) => ({
    url: `${apiUrl()}/repos/${i.repository}/issues/${i.number}`,
    repository_url: `${apiUrl()}/repos/${i.repository}`,
    html_url: `https://github.com/${i.repository}/${i.pullRequest ? 'pull' : 'issues'}/${i.number}`,
    id: i.id,
    node_id: `I_${i.id}`,
    number: i.number,
    title: i.title,
    body: i.body,
    user: { login: i.user, type: 'User' },
    labels: i.labels.map((name, index) => ({ id: i.id * 100 + index, name, color: 'ededed', default: false })),
    state: i.state,
    state_reason: i.stateReason,
    assignee: i.assignees[0] ? { login: i.assignees[0] } : null,
    assignees: i.assignees.map((login) => ({ login })),
    comments: i.comments.length,
    created_at: i.createdAt,
    updated_at: i.updatedAt,
    closed_at: i.closedAt,
    ...(i.pullRequest ? { pull_request: { url: `${apiUrl()}/repos/${i.repository}/pulls/${i.number}` } } : {}),
  });
  const commentJson = (i: FakeIssue, c: FakeComment) => ({
    id: c.id,
    body: c.body,
    user: { login: c.user },
    html_url: `https://github.com/${i.repository}/issues/${i.number}#issuecomment-${c.id}`,
    issue_url: `${apiUrl()}/repos/${i.repository}/issues/${i.number}`,
    created_at: c.createdAt,
    updated_at: c.createdAt,
  });
  const labelsJson = (i: FakeIssue) => issueJson(i).labels;
  const touch = (i: FakeIssue) => (i.updatedAt = now());

  /** One page of `items` with GitHub's `Link` header. */
  function page<T>(req: RecordedRequest, items: T[]): FakeAnswer {
    const perPage = Math.min(100, Math.max(1, Number(req.query.per_page ?? 30) || 30));
    const number = Math.max(1, Number(req.query.page ?? 1) || 1);
    const slice = items.slice((number - 1) * perPage, number * perPage);
    const headers: Record<string, string> = {};
    if (number * perPage < items.length) {
      const next = new URLSearchParams({ ...req.query, per_page: String(perPage), page: String(number + 1) });
      headers.link = `<${apiUrl()}${req.path}?${next}>; rel="next"`;
    }
    return [200, slice, headers];
  }

  function route(req: RecordedRequest): FakeAnswer | null {
    const m = /^\/repos\/([^/]+)\/([^/]+)\/issues(?:\/(\d+)(?:\/(comments|labels|assignees)(?:\/([^/]+))?)?)?$/.exec(req.path);
    if (!m) return null;
    const full = canonical(m[1], m[2]);
    if (!full) return notFound();
    const body = (req.body ?? {}) as Record<string, unknown>;
    if (m[3] === undefined) {
      if (req.method !== 'GET') return null;
      const state = req.query.state ?? 'open';
      const since = req.query.since ? Date.parse(req.query.since) : null;
      const key = req.query.sort === 'updated' ? 'updatedAt' : 'createdAt';
      const sign = req.query.direction === 'asc' ? 1 : -1;
      const items = listOf(full)
        .filter((i) => state === 'all' || i.state === state)
        .filter((i) => since === null || Date.parse(i.updatedAt) >= since)
        .sort((a, b) => sign * (Date.parse(a[key]) - Date.parse(b[key]) || a.number - b.number));
      return page(req, items.map(issueJson));
    }
    const issue = listOf(full).find((i) => i.number === Number(m[3]));
    if (!issue) return notFound();
    const sub = m[4];
    if (sub === undefined && req.method === 'GET') return [200, issueJson(issue)];
    if (sub === undefined && req.method === 'PATCH') {
      if (body.state === 'open' || body.state === 'closed') {
        if (body.state !== issue.state) issue.closedAt = body.state === 'closed' ? now() : null;
        issue.state = body.state;
        issue.stateReason = body.state === 'closed' ? (typeof body.state_reason === 'string' ? body.state_reason : 'completed') : 'reopened';
      } else if (body.state !== undefined) {
        return [422, { message: 'Validation Failed', errors: [{ resource: 'Issue', field: 'state', code: 'invalid' }], documentation_url: DOCS }];
      }
      if (Array.isArray(body.assignees)) issue.assignees = body.assignees.map(String);
      if (typeof body.title === 'string') issue.title = body.title;
      if (typeof body.body === 'string') issue.body = body.body;
      touch(issue);
      return [200, issueJson(issue)];
    }
    if (sub === 'comments' && req.method === 'GET') return page(req, issue.comments.map((c) => commentJson(issue, c)));
    if (sub === 'comments' && req.method === 'POST') {
      if (typeof body.body !== 'string' || body.body === '') {
        return [422, { message: 'Validation Failed', errors: [{ resource: 'IssueComment', field: 'body', code: 'missing_field' }], documentation_url: DOCS }];
      }
      const comment: FakeComment = { id: nextId(), body: body.body, user: 'deflect-bot', createdAt: now() };
      issue.comments.push(comment);
      touch(issue);
      return [201, commentJson(issue, comment)];
    }
    if (sub === 'labels' && m[5] === undefined && req.method === 'POST') {
      const labels = Array.isArray(body.labels) ? body.labels.map(String) : [];
      for (const label of labels) if (!issue.labels.some((l) => l.toLowerCase() === label.toLowerCase())) issue.labels.push(label);
      touch(issue);
      return [200, labelsJson(issue)];
    }
    if (sub === 'labels' && m[5] !== undefined && req.method === 'DELETE') {
      const name = decodeURIComponent(m[5]).toLowerCase();
      if (!issue.labels.some((l) => l.toLowerCase() === name)) return [404, { message: 'Label does not exist', documentation_url: DOCS, status: '404' }];
      issue.labels = issue.labels.filter((l) => l.toLowerCase() !== name);
      touch(issue);
      return [200, labelsJson(issue)];
    }
    if (sub === 'assignees' && (req.method === 'POST' || req.method === 'DELETE')) {
      const logins = Array.isArray(body.assignees) ? body.assignees.map(String) : [];
      issue.assignees = req.method === 'POST' ? [...new Set([...issue.assignees, ...logins])] : issue.assignees.filter((a) => !logins.includes(a));
      touch(issue);
      return [req.method === 'POST' ? 201 : 200, issueJson(issue)];
    }
    return null;
  }

  return {
    route,
    seedIssue,
    issue: (repository, number) => listOf(repository).find((i) => i.number === number),
    issues: (repository) => listOf(repository),
  };
}
