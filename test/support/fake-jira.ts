/**
 * A fake Jira Cloud for tests: a real `node:http` server on 127.0.0.1 (random port) answering the REST v3 calls
 * deflect makes, with the status codes, bodies and error shapes of Jira Cloud, and recording every request.
 *
 * Mimicked (https://developer.atlassian.com/cloud/jira/platform/rest/v3/):
 * - `GET  /rest/api/3/myself`                          → 200 user (api-group-myself)
 * - `POST /rest/api/3/issue`                           → 201 `{ id, key, self }`: a new issue `<project>-<n>` with the
 *   given `fields` (project, issuetype, summary, description, labels), reporter = the service account, status "To Do"
 * - `GET  /rest/api/3/issue/{key}`                     → 200 `{ id, key, self, fields }` (api-group-issues)
 * - `PUT  /rest/api/3/issue/{key}`                     → 204; applies `update.labels` add/remove/set and `fields`
 * - `PUT  /rest/api/3/issue/{key}/assignee`            → 204 (`accountId: null` unassigns)
 * - `GET  /rest/api/3/issue/{key}/transitions`         → 200 `{ transitions: [{ id, name, to: { id, name } }] }`
 * - `POST /rest/api/3/issue/{key}/transitions`         → 204, moves the issue; 400 for an unknown transition id
 * - `POST /rest/api/3/issue/{key}/comment`             → 201 comment (api-group-issue-comments)
 * - `GET  /rest/api/3/issue/{key}/comment`             → 200 page of comments; `expand=properties` adds properties
 * - `GET|POST /rest/api/3/search/jql`                  → enhanced JQL search paged by `nextPageToken`
 *   (api-group-issue-search); only `key = X`, `key in (…)` and `project = X` are understood, anything else matches all.
 * Unknown issues answer 404 `{"errorMessages":["Issue does not exist or you do not have permission to see it."],"errors":{}}`.
 * With `credentials`, requests without the matching basic `Authorization` header get 401.
 *
 * Faults for reliability tests: `setFault(req => fault)` is consulted for every request after it is recorded;
 * `{ status, headers?, body? }` answers that instead, `{ delayMs }` answers normally after a delay,
 * `{ reset: true }` destroys the socket (the client sees ECONNRESET / "socket hang up").
 * As in real Jira, a write delayed past the client's timeout is still applied once the delay ends.
 *
 * With `deployment: 'datacenter'` it is a fake Jira Data Center instead (REST v2, Bearer PAT, wiki-markup comment
 * strings, `startAt` search paging, `/myself` with name/key): the differences live in `fake-jira-dc.ts`.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dcAssignee, dcAuthor, dcCommentBodyError, dcMyself, dcSearchPage, type FakeJiraDcOptions } from './fake-jira-dc.js';
import { applyFault, closeFakeServer, recordRequest, type Fault, type RecordedRequest } from './recorded-request.js';

export type { Fault, RecordedRequest } from './recorded-request.js';

/** A workflow transition: `to` is the target status. */
export interface FakeTransition {
  id: string;
  name: string;
  to: { id: string; name: string };
}

/** Seed for an issue; `fields` are merged over defaults (summary, status "To Do", labels [], assignee null, project). */
export interface IssueSeed {
  key: string;
  id?: string;
  fields?: Record<string, unknown>;
  /** Transitions offered for this issue; defaults to {@link DEFAULT_TRANSITIONS}. */
  transitions?: FakeTransition[];
}

/** A stored comment, in the shape Jira returns it. */
export interface FakeComment {
  id: string;
  self: string;
  author: Record<string, unknown>;
  updateAuthor: Record<string, unknown>;
  body: unknown;
  created: string;
  updated: string;
  jsdPublic: boolean;
  properties: Array<{ key: string; value: unknown }>;
  visibility?: unknown;
}

export interface FakeIssue {
  id: string;
  key: string;
  fields: Record<string, unknown>;
  transitions: FakeTransition[];
  comments: FakeComment[];
}

export interface FakeJiraOptions extends FakeJiraDcOptions {
  /** `datacenter`: behave as Jira Data Center (see `fake-jira-dc.ts`; `pat`, `contextPath` apply). Default `cloud`. */
  deployment?: 'cloud' | 'datacenter';
  /** When set, every request must carry `Authorization: Basic base64(email:apiToken)` or gets 401. */
  credentials?: { email: string; apiToken: string };
  /** Overrides for the `/myself` answer (defaults: accountId `fake-service-account`, displayName `Deflect Bot`). */
  myself?: Record<string, unknown>;
}

export interface FakeJira {
  /** Base URL, e.g. `http://127.0.0.1:54321` (no trailing slash; Data Center: with the context path). */
  readonly url: string;
  /** Every request received, in arrival order. */
  readonly requests: RecordedRequest[];
  /** Adds or replaces an issue; returns its stored state (mutated by later calls). */
  seedIssue(seed: IssueSeed): FakeIssue;
  /** The stored state of an issue, or undefined. */
  issue(key: string): FakeIssue | undefined;
  /** Comments added to an issue (empty when none or unknown). */
  commentsFor(key: string): FakeComment[];
  /** Recorded requests with this method whose path (after the context path, if any) starts with `pathPrefix`. */
  requestsTo(method: string, pathPrefix: string): RecordedRequest[];
  /** Installs (or with undefined removes) the fault hook. */
  setFault(fn: ((req: RecordedRequest) => Fault | undefined) | undefined): void;
  /** Stops the server, dropping open connections. */
  close(): Promise<void>;
}

/** Jira Cloud's default software workflow, as global transitions. */
export const DEFAULT_TRANSITIONS: FakeTransition[] = [
  { id: '11', name: 'To Do', to: { id: '10000', name: 'To Do' } },
  { id: '21', name: 'In Progress', to: { id: '3', name: 'In Progress' } },
  { id: '31', name: 'Done', to: { id: '10001', name: 'Done' } },
];

const ISSUE_NOT_FOUND = 'Issue does not exist or you do not have permission to see it.';

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
  ) {
    super(`HTTP ${status}`);
  }
}

const jiraError = (status: number, errorMessages: string[], errors: Record<string, string> = {}) =>
  new HttpError(status, { errorMessages, errors });

/** Jira's timestamp format, e.g. `2026-01-02T03:04:05.678+0000`. */
const jiraTimestamp = (ms = Date.now()) => new Date(ms).toISOString().replace('Z', '+0000');

/**
 * Starts a fake Jira Cloud on 127.0.0.1 with a random port. Close it with `close()` (e.g. in `afterAll`).
 * @example const fake = await startFakeJira({ credentials: { email: 'bot@example.com', apiToken: 't' } });
 */
export async function startFakeJira(options: FakeJiraOptions = {}): Promise<FakeJira> {
  const requests: RecordedRequest[] = [];
  const issues = new Map<string, FakeIssue>();
  const timers = new Set<NodeJS.Timeout>();
  let fault: ((req: RecordedRequest) => Fault | undefined) | undefined;
  let nextIssueId = 10001;
  let nextCommentId = 10000;
  let url = '';
  const dc = options.deployment === 'datacenter';
  const api = dc ? '/rest/api/2' : '/rest/api/3';
  const contextPath = dc ? (options.contextPath ?? '').replace(/\/+$/, '') : '';

  const myself: Record<string, unknown> = dc ? dcMyself(options.myself) : {
    accountId: 'fake-service-account',
    accountType: 'atlassian',
    emailAddress: options.credentials?.email ?? 'bot@example.com',
    displayName: 'Deflect Bot',
    active: true,
    timeZone: 'UTC',
    locale: 'en_US',
    ...options.myself,
  };
  const expectedAuth = dc
    ? (options.pat ? `Bearer ${options.pat}` : null)
    : options.credentials
    ? `Basic ${Buffer.from(`${options.credentials.email}:${options.credentials.apiToken}`).toString('base64')}`
    : null;

  const findIssue = (keyOrId: string): FakeIssue => {
    const found = issues.get(keyOrId.toUpperCase()) ?? [...issues.values()].find((i) => i.id === keyOrId);
    if (!found) throw jiraError(404, [ISSUE_NOT_FOUND]);
    return found;
  };
  const author = () => (dc ? dcAuthor(url, myself) : { ...myself, self: `${url}/rest/api/3/user?accountId=${String(myself.accountId)}` });
  const issueJson = (issue: FakeIssue, fields?: string[]) => {
    const all = !fields || fields.some((f) => f === '*all' || f === '*navigable');
    const picked = all ? issue.fields : Object.fromEntries(Object.entries(issue.fields).filter(([k]) => fields.includes(k)));
    return { id: issue.id, key: issue.key, self: `${url}${api}/issue/${issue.id}`, fields: structuredClone(picked) };
  };

  function seedIssue(seed: IssueSeed): FakeIssue {
    const key = seed.key.toUpperCase();
    const now = jiraTimestamp();
    const issue: FakeIssue = {
      id: seed.id ?? String(nextIssueId++),
      key,
      fields: {
        summary: `Seeded issue ${key}`,
        status: { id: '10000', name: 'To Do' },
        labels: [],
        assignee: null,
        project: { key: key.split('-')[0] },
        created: now,
        updated: now,
        ...structuredClone(seed.fields ?? {}),
      },
      transitions: structuredClone(seed.transitions ?? DEFAULT_TRANSITIONS),
      comments: [],
    };
    issues.set(key, issue);
    return issue;
  }

  function createIssue(body: Record<string, unknown>) {
    const fields = (body.fields ?? {}) as Record<string, unknown>;
    const project = (fields.project as { key?: unknown } | undefined)?.key;
    if (typeof project !== 'string' || !/^[A-Z][A-Z0-9_]*$/i.test(project)) throw jiraError(400, [], { project: 'Specify a valid project ID or key' });
    if (typeof fields.summary !== 'string' || fields.summary.trim() === '') throw jiraError(400, [], { summary: 'You must specify a summary of the issue.' });
    if (!(fields.issuetype as { name?: unknown } | undefined)?.name) throw jiraError(400, [], { issuetype: 'Specify an issue type' });
    const number = [...issues.values()].filter((i) => i.key.startsWith(`${project.toUpperCase()}-`)).length + 1;
    const issue = seedIssue({ key: `${project.toUpperCase()}-${number}`, fields: { ...fields, project: { key: project.toUpperCase() }, reporter: author() } });
    return { id: issue.id, key: issue.key, self: `${url}${api}/issue/${issue.id}` };
  }

  function addComment(issue: FakeIssue, body: Record<string, unknown>, query: Record<string, string>) {
    const doc = body.body as unknown;
    const dcError = dc ? dcCommentBodyError(doc) : null;
    if (dcError) throw jiraError(400, [], { comment: dcError });
    if (doc === undefined || doc === null || doc === '') throw jiraError(400, [], { comment: 'Comment body can not be empty!' });
    if (!dc && (typeof doc !== 'object' || (doc as { type?: unknown }).type !== 'doc')) {
      throw jiraError(400, [], { comment: 'Operation value must be an Atlassian Document (see the Atlassian Document Format)' });
    }
    const id = String(nextCommentId++);
    const now = jiraTimestamp();
    const comment: FakeComment = {
      id,
      self: `${url}${api}/issue/${issue.id}/comment/${id}`,
      author: author(),
      updateAuthor: author(),
      body: structuredClone(doc),
      created: now,
      updated: now,
      jsdPublic: true,
      properties: Array.isArray(body.properties) ? structuredClone(body.properties) : [],
      ...(body.visibility ? { visibility: body.visibility } : {}),
    };
    issue.comments.push(comment);
    return commentJson(comment, query.expand);
  }

  function commentJson(comment: FakeComment, expand: string | undefined) {
    const { properties, ...rest } = comment;
    return expand?.split(',').includes('properties') ? { ...structuredClone(rest), properties: structuredClone(properties) } : structuredClone(rest);
  }

  function doTransition(issue: FakeIssue, body: Record<string, unknown>) {
    const id = (body.transition as { id?: unknown } | undefined)?.id;
    if (id === undefined) throw jiraError(400, ["Missing 'transition' identifier"]);
    const transition = issue.transitions.find((t) => t.id === String(id));
    if (!transition) throw jiraError(400, [`Transition id '${String(id)}' is not valid for this issue.`]);
    issue.fields.status = { ...transition.to };
    applyFields(issue, body);
  }

  function applyFields(issue: FakeIssue, body: Record<string, unknown>) {
    const fields = (body.fields ?? {}) as Record<string, unknown>;
    const update = (body.update ?? {}) as Record<string, Array<Record<string, unknown>>>;
    for (const name of Object.keys(fields)) {
      if (name in update) throw jiraError(400, [], { [name]: 'Field cannot be set in both fields and update.' });
      issue.fields[name] = structuredClone(fields[name]);
    }
    for (const op of update.labels ?? []) {
      const labels = new Set((issue.fields.labels as string[] | undefined) ?? []);
      for (const label of [op.add, op.remove, ...((op.set as unknown[]) ?? [])].filter((l) => l !== undefined)) {
        if (typeof label !== 'string' || /\s/.test(label)) throw jiraError(400, [], { labels: 'The label must not contain spaces.' });
      }
      if (op.set !== undefined) {
        labels.clear();
        for (const label of op.set as string[]) labels.add(label);
      }
      if (op.add !== undefined) labels.add(op.add as string);
      if (op.remove !== undefined) labels.delete(op.remove as string);
      issue.fields.labels = [...labels];
    }
    issue.fields.updated = jiraTimestamp();
  }

  function search(params: { jql?: unknown; maxResults?: unknown; nextPageToken?: unknown; fields?: unknown; startAt?: unknown }) {
    const jql = typeof params.jql === 'string' ? params.jql : '';
    let matches = [...issues.values()];
    const keyIn = /\bkey\s+in\s*\(([^)]*)\)/i.exec(jql);
    const keyEq = /\b(?:key|issuekey)\s*=\s*"?([A-Za-z0-9_-]+)"?/i.exec(jql);
    const project = /\bproject\s*=\s*"?([A-Za-z0-9_]+)"?/i.exec(jql);
    if (keyIn) {
      const keys = keyIn[1].split(',').map((k) => k.trim().replace(/^"|"$/g, '').toUpperCase());
      matches = matches.filter((i) => keys.includes(i.key));
    } else if (keyEq) {
      matches = matches.filter((i) => i.key === keyEq[1].toUpperCase());
    }
    if (project) matches = matches.filter((i) => (i.fields.project as { key?: string })?.key?.toUpperCase() === project[1].toUpperCase());
    const fieldList = Array.isArray(params.fields)
      ? (params.fields as string[])
      : typeof params.fields === 'string' ? params.fields.split(',') : ['id'];
    if (dc) return dcSearchPage(matches, params, (i) => issueJson(i, fieldList));
    const maxResults = Math.min(Math.max(Number(params.maxResults ?? 50) || 50, 1), 5000);
    const start = typeof params.nextPageToken === 'string' ? Number(Buffer.from(params.nextPageToken, 'base64url').toString()) || 0 : 0;
    const page = matches.slice(start, start + maxResults);
    const isLast = start + maxResults >= matches.length;
    return {
      issues: page.map((i) => issueJson(i, fieldList)),
      isLast,
      ...(isLast ? {} : { nextPageToken: Buffer.from(String(start + maxResults)).toString('base64url') }),
    };
  }

  /** Routes one request; returns [status, body] (body undefined = empty). */
  function route(req: RecordedRequest): [number, unknown] {
    const { method, query } = req;
    const path = contextPath && req.path.startsWith(`${contextPath}/`) ? req.path.slice(contextPath.length) : req.path;
    const body = (req.body ?? {}) as Record<string, unknown>;
    if (method === 'GET' && path === `${api}/myself`) return [200, { ...author() }];
    if (path === (dc ? `${api}/search` : `${api}/search/jql`) && (method === 'GET' || method === 'POST')) {
      return [200, search(method === 'GET' ? query : body)];
    }
    if (method === 'POST' && path === `${api}/issue`) return [201, createIssue(body)];
    const match = (dc ? /^\/rest\/api\/2\/issue\/([^/]+)(?:\/(comment|transitions|assignee))?$/ : /^\/rest\/api\/3\/issue\/([^/]+)(?:\/(comment|transitions|assignee))?$/).exec(path);
    if (match) {
      const issue = findIssue(decodeURIComponent(match[1]));
      const sub = match[2] ?? '';
      const what = `${method} ${sub}`;
      if (what === 'GET ') return [200, issueJson(issue, query.fields?.split(','))];
      if (what === 'PUT ') {
        applyFields(issue, body);
        return [204, undefined];
      }
      if (what === 'PUT assignee' && dc) {
        const assignee = dcAssignee(body);
        if (assignee === 'invalid') throw jiraError(400, [], { assignee: 'Specify a valid value for assignee.' });
        issue.fields.assignee = assignee;
        return [204, undefined];
      }
      if (what === 'PUT assignee') {
        if (!('accountId' in body)) throw jiraError(400, [], { assignee: 'Specify a valid value for assignee.' });
        issue.fields.assignee = body.accountId === null ? null : { accountId: body.accountId };
        return [204, undefined];
      }
      if (what === 'GET transitions') {
        const transitions = issue.transitions.map((t) => ({
          id: t.id, name: t.name, to: { ...t.to, self: `${url}${api}/status/${t.to.id}` },
          hasScreen: false, isGlobal: true, isInitial: false, isAvailable: true, isConditional: false, isLooped: false,
        }));
        return [200, { expand: 'transitions', transitions }];
      }
      if (what === 'POST transitions') {
        doTransition(issue, body);
        return [204, undefined];
      }
      if (what === 'POST comment') return [201, addComment(issue, body, query)];
      if (what === 'GET comment') {
        const comments = issue.comments.map((c) => commentJson(c, query.expand));
        return [200, { startAt: 0, maxResults: 5000, total: comments.length, comments }];
      }
    }
    throw jiraError(404, [`fake Jira has no route for ${method} ${path}`]);
  }

  async function handle(request: IncomingMessage, response: ServerResponse) {
    const { recorded, badJson } = await recordRequest(request);
    requests.push(recorded);

    const send = (status: number, payload: unknown, headers: Record<string, string> = {}) => {
      if (response.destroyed || response.writableEnded) return;
      const text = payload === undefined ? '' : typeof payload === 'string' ? payload : JSON.stringify(payload);
      const type = typeof payload === 'string' ? 'text/plain;charset=UTF-8' : 'application/json;charset=UTF-8';
      response.writeHead(status, { ...(text ? { 'content-type': type } : {}), ...headers });
      response.end(text);
    };

    if (await applyFault(fault?.(recorded), request, send, timers, () => ({ errorMessages: [], errors: {} }))) return;

    if (expectedAuth && request.headers.authorization !== expectedAuth) {
      return send(401, { errorMessages: ['Client must be authenticated to access this resource.'], errors: {} }, {
        'www-authenticate': dc ? 'Bearer realm="Jira"' : 'Basic realm="protected-area"',
      });
    }
    if (badJson) return send(400, { errorMessages: ['Unexpected character in request body: not valid JSON.'], errors: {} });
    try {
      const [status, payload] = route(recorded);
      send(status, payload);
    } catch (error) {
      if (error instanceof HttpError) send(error.status, error.body);
      else send(500, { errorMessages: [`fake Jira crashed: ${(error as Error).message}`], errors: {} });
    }
  }

  const server = createServer((request, response) => {
    handle(request, response).catch(() => response.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}${contextPath}`;

  return {
    url,
    requests,
    seedIssue,
    issue: (key) => issues.get(key.toUpperCase()),
    commentsFor: (key) => issues.get(key.toUpperCase())?.comments ?? [],
    requestsTo: (method, pathPrefix) =>
      requests.filter((r) => r.method === method.toUpperCase() && (r.path.startsWith(pathPrefix) || r.path.startsWith(`${contextPath}${pathPrefix}`))),
    setFault: (fn) => {
      fault = fn;
    },
    close: () => closeFakeServer(server, timers),
  };
}
