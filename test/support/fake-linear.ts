/**
 * A fake Linear GraphQL API for tests and the demo: a real `node:http` server on 127.0.0.1 (random port) at
 * `POST /graphql`, answering the named operations deflect sends (`src/trackers/linear/`), with Linear's answer shapes
 * (`{ data }`, or `{ errors: [{ message, extensions: { type, code } }] }`), and recording every request.
 *
 * Operations (dispatched by operation name; each also checks that the document selects the root fields it answers,
 * so a changed query fails loudly here instead of being answered blindly):
 * - `DeflectIssueStates` (`issue { state team { states } }`), `DeflectIssueLabels` (`issue { team { labels } }` +
 *   workspace `issueLabels`), `DeflectIssueComments` (`issue { comments(first, after) }`, cursor = index);
 * - `DeflectCommentCreate` (`commentCreate(input: { issueId, body })`), `DeflectIssueUpdate` (`issueUpdate(id, input:
 *   { stateId, assigneeId, addedLabelIds, removedLabelIds })`; an unknown state or label id → `invalid input`);
 * - `DeflectTeamIssues` (`teams(filter key eqIgnoreCase)` + `issues(first, after, filter team key, updatedAt gte)`).
 * `issue(id:)` accepts the uuid or the identifier (`ENG-12`), as Linear does; an unknown one answers HTTP 200 with an
 * `Entity not found` error. Every request needs `Authorization: <api key>`, else HTTP 401 with an `authentication
 * error`. Faults: `setFault(req => fault)` as in fake-jira; {@link rateLimited} is Linear's rate-limit answer (HTTP
 * 400, `extensions.code: RATELIMITED`, `X-RateLimit-Requests-Reset`).
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { applyFault, closeFakeServer, recordRequest, type Fault, type RecordedRequest } from './recorded-request.js';

export type { Fault, RecordedRequest } from './recorded-request.js';

export interface FakeState { id: string; name: string; type: string }
export interface FakeLabel { id: string; name: string }
export interface FakeComment { id: string; body: string; createdAt: string }
export interface FakeLinearIssue {
  id: string;
  identifier: string;
  number: number;
  teamKey: string;
  title: string;
  description: string | null;
  stateId: string;
  labelIds: string[];
  assigneeId: string | null;
  creator: { id: string; name: string };
  createdAt: string;
  updatedAt: string;
  completedAt: string | null;
  comments: FakeComment[];
}

export interface FakeLinear {
  /** GraphQL endpoint to use as `LINEAR_API_URL`, e.g. `http://127.0.0.1:54321/graphql`. */
  readonly url: string;
  readonly apiKey: string;
  /** The workspace url key (`https://linear.app/<urlKey>`). */
  readonly urlKey: string;
  readonly requests: RecordedRequest[];
  /** The team `key` (created with Linear's default states and labels on first use). */
  team(key: string): { id: string; key: string; states: FakeState[]; labels: FakeLabel[] };
  /** Workspace labels (no team). */
  readonly workspaceLabels: FakeLabel[];
  /** Adds an issue to team `teamKey` (default `ENG`); labels by name (created as team labels when unknown). */
  seedIssue(seed?: { id?: string; teamKey?: string; title?: string; description?: string; labels?: string[]; state?: string; updatedAt?: string }): FakeLinearIssue;
  issue(idOrIdentifier: string): FakeLinearIssue | undefined;
  stateName(issue: FakeLinearIssue): string;
  labelNames(issue: FakeLinearIssue): string[];
  /**
   * The webhook body Linear would send for `issue` now (`Issue.<action>`; `updatedFrom` = previous values), with
   * `webhookTimestamp` = now.
   */
  webhookPayload(issue: FakeLinearIssue, action: 'create' | 'update' | 'remove', updatedFrom?: Record<string, unknown>): Record<string, unknown>;
  /** Recorded requests of one operation name. */
  operations(name: string): RecordedRequest[];
  setFault(fn: ((req: RecordedRequest) => Fault | undefined) | undefined): void;
  close(): Promise<void>;
}

/** Linear's rate-limit answer: HTTP 400 with a `RATELIMITED` GraphQL error; the reset time in epoch ms. */
export function rateLimited(resetInMs = 1000): Fault {
  return {
    status: 400,
    headers: { 'x-ratelimit-requests-reset': String(Date.now() + resetInMs), 'x-ratelimit-requests-remaining': '0' },
    body: { errors: [{ message: 'Rate limit exceeded', extensions: { type: 'ratelimited', code: 'RATELIMITED', userPresentableMessage: 'Rate limit exceeded' } }] },
  };
}

const DEFAULT_STATES: Array<[string, string]> = [['Backlog', 'backlog'], ['Todo', 'unstarted'], ['In Progress', 'started'], ['Done', 'completed'], ['Canceled', 'canceled']];
const DEFAULT_LABELS = ['Bug', 'Feature', 'Improvement'];

class GraphqlError extends Error {
  constructor(readonly status: number, message: string, readonly type: string, readonly code: string) {
    super(message);
  }
}
const notFound = () => new GraphqlError(200, 'Entity not found: Issue', 'invalid input', 'INPUT_ERROR');

/** Starts a fake Linear on 127.0.0.1 with a random port. Close it with `close()`. */
export async function startFakeLinear(options: { apiKey?: string; urlKey?: string } = {}): Promise<FakeLinear> {
  const apiKey = options.apiKey ?? 'lin_api_test_key';
  const urlKey = options.urlKey ?? 'acme';
  const requests: RecordedRequest[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const teams = new Map<string, { id: string; key: string; states: FakeState[]; labels: FakeLabel[]; next: number }>();
  const issues: FakeLinearIssue[] = [];
  const workspaceLabels: FakeLabel[] = [{ id: randomUUID(), name: 'Platform' }];
  let fault: ((req: RecordedRequest) => Fault | undefined) | undefined;

  const team = (key: string) => {
    let found = teams.get(key.toUpperCase());
    if (!found) {
      found = { id: randomUUID(), key: key.toUpperCase(), states: DEFAULT_STATES.map(([name, type]) => ({ id: randomUUID(), name, type })), labels: DEFAULT_LABELS.map((name) => ({ id: randomUUID(), name })), next: 1 };
      teams.set(found.key, found);
    }
    return found;
  };
  const allLabels = (teamKey: string) => [...team(teamKey).labels, ...workspaceLabels];
  const find = (id: string) => issues.find((i) => i.id === id || i.identifier.toLowerCase() === id.toLowerCase());
  const stateOf = (i: FakeLinearIssue) => team(i.teamKey).states.find((s) => s.id === i.stateId)!;
  const labelsOf = (i: FakeLinearIssue) => i.labelIds.map((id) => allLabels(i.teamKey).find((l) => l.id === id)!).filter(Boolean);
  const issueUrl = (i: FakeLinearIssue) => `https://linear.app/${urlKey}/issue/${i.identifier}/${i.title.toLowerCase().replace(/[^a-z0-9]+/g, '-').slice(0, 40)}`;
  const touch = (i: FakeLinearIssue) => (i.updatedAt = new Date(Math.max(Date.now(), Date.parse(i.updatedAt) + 1)).toISOString());

  function seedIssue(seed: Parameters<FakeLinear['seedIssue']>[0] = {}): FakeLinearIssue {
    const t = team(seed.teamKey ?? 'ENG');
    const labelIds = (seed.labels ?? []).map((name) => {
      let label = allLabels(t.key).find((l) => l.name.toLowerCase() === name.toLowerCase());
      if (!label) t.labels.push((label = { id: randomUUID(), name }));
      return label.id;
    });
    const state = t.states.find((s) => s.name.toLowerCase() === (seed.state ?? 'Todo').toLowerCase()) ?? t.states[1];
    const now = seed.updatedAt ?? new Date().toISOString();
    const number = t.next++;
    const issue: FakeLinearIssue = {
      id: seed.id ?? randomUUID(), identifier: `${t.key}-${number}`, number, teamKey: t.key, title: seed.title ?? `Issue ${number}`, description: seed.description ?? null,
      stateId: state.id, labelIds, assigneeId: null, creator: { id: 'user-reporter', name: 'Jo Reporter' }, createdAt: now, updatedAt: now, completedAt: null, comments: [],
    };
    issues.push(issue);
    return issue;
  }

  const issueJson = (i: FakeLinearIssue) => ({
    id: i.id, identifier: i.identifier, number: i.number, title: i.title, description: i.description, url: issueUrl(i), createdAt: i.createdAt, updatedAt: i.updatedAt,
    completedAt: i.completedAt, canceledAt: null, team: { key: i.teamKey }, state: { name: stateOf(i).name, type: stateOf(i).type },
    labels: { nodes: labelsOf(i).map((l) => ({ id: l.id, name: l.name })) }, creator: i.creator,
  });

  const operations: Record<string, { roots: string[]; run: (v: Record<string, any>) => unknown }> = {
    // The account the API key belongs to (deflect looks it up to ignore its own events).
    DeflectViewer: { roots: ['viewer'], run: () => ({ viewer: { id: 'user-deflect-bot', name: 'deflect bot' } }) },
    DeflectIssueStates: { roots: ['issue(', 'states'], run: (v) => {
      const i = find(v.id);
      if (!i) throw notFound();
      const t = team(i.teamKey);
      return { issue: { id: i.id, state: stateOf(i), team: { key: t.key, states: { nodes: t.states } } } };
    } },
    DeflectIssueLabels: { roots: ['issue(', 'issueLabels('], run: (v) => {
      const i = find(v.id);
      if (!i) throw notFound();
      const t = team(i.teamKey);
      return { issue: { id: i.id, team: { key: t.key, labels: { nodes: t.labels } } }, issueLabels: { nodes: workspaceLabels } };
    } },
    DeflectIssueComments: { roots: ['issue(', 'comments('], run: (v) => {
      const i = find(v.id);
      if (!i) throw notFound();
      const start = v.after ? Number(v.after) : 0;
      const nodes = i.comments.slice(start, start + 100);
      const end = start + nodes.length;
      return { issue: { id: i.id, comments: { nodes: nodes.map((c) => ({ id: c.id, body: c.body })), pageInfo: { hasNextPage: end < i.comments.length, endCursor: String(end) } } } };
    } },
    DeflectCommentCreate: { roots: ['commentCreate('], run: (v) => {
      const i = find(String(v.input?.issueId ?? ''));
      if (!i) throw notFound();
      if (typeof v.input.body !== 'string' || v.input.body.trim() === '') throw new GraphqlError(200, 'Argument Validation Error: body should not be empty', 'invalid input', 'INPUT_ERROR');
      const comment = { id: randomUUID(), body: v.input.body, createdAt: new Date().toISOString() };
      i.comments.push(comment);
      return { commentCreate: { success: true, comment: { id: comment.id } } };
    } },
    DeflectIssueUpdate: { roots: ['issueUpdate('], run: (v) => {
      const i = find(v.id);
      if (!i) throw notFound();
      const input = v.input ?? {};
      const t = team(i.teamKey);
      const invalid = (what: string) => new GraphqlError(200, `Argument Validation Error: ${what}`, 'invalid input', 'INPUT_ERROR');
      if ('stateId' in input) {
        const state = t.states.find((s) => s.id === input.stateId);
        if (!state) throw invalid('stateId must be a workflow state of the issue team');
        i.stateId = state.id;
        i.completedAt = state.type === 'completed' ? new Date().toISOString() : null;
      }
      if ('assigneeId' in input) i.assigneeId = input.assigneeId;
      for (const id of [...(input.addedLabelIds ?? []), ...(input.removedLabelIds ?? [])]) if (!allLabels(i.teamKey).some((l) => l.id === id)) throw invalid(`unknown label ${id}`);
      i.labelIds = [...new Set([...i.labelIds, ...(input.addedLabelIds ?? [])])].filter((id) => !(input.removedLabelIds ?? []).includes(id));
      touch(i);
      return { issueUpdate: { success: true, issue: { id: i.id, state: { name: stateOf(i).name } } } };
    } },
    DeflectTeamIssues: { roots: ['teams(', 'issues('], run: (v) => {
      const t = teams.get(String(v.team).toUpperCase());
      const since = v.since ? Date.parse(v.since) : null;
      const matching = t ? issues.filter((i) => i.teamKey === t.key && (since === null || Date.parse(i.updatedAt) >= since)) : [];
      matching.sort((a, b) => Date.parse(b.updatedAt) - Date.parse(a.updatedAt));
      const start = v.after ? Number(v.after) : 0;
      const nodes = matching.slice(start, start + Number(v.first ?? 50));
      const end = start + nodes.length;
      return { teams: { nodes: t ? [{ id: t.id, key: t.key }] : [] }, issues: { nodes: nodes.map(issueJson), pageInfo: { hasNextPage: end < matching.length, endCursor: String(end) } } };
    } },
  };

  async function handle(request: IncomingMessage, response: ServerResponse) {
    const { recorded, badJson } = await recordRequest(request);
    requests.push(recorded);
    const send = (status: number, payload: unknown, headers: Record<string, string> = {}) => {
      if (response.destroyed || response.writableEnded) return;
      response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
      response.end(JSON.stringify(payload));
    };
    const error = (status: number, message: string, type: string, code: string) => send(status, { errors: [{ message, extensions: { type, code, userPresentableMessage: message } }], data: null });
    if (await applyFault(fault?.(recorded), request, send, timers, (status) => ({ errors: [{ message: `fault ${status}`, extensions: { type: 'internal error', code: 'INTERNAL_SERVER_ERROR' } }] }))) return;
    if (request.headers.authorization !== apiKey) return error(401, 'Authentication required, not authenticated', 'authentication error', 'AUTHENTICATION_ERROR');
    if (recorded.method !== 'POST' || recorded.path !== '/graphql' || badJson) return error(400, 'POST a JSON GraphQL request to /graphql', 'graphql error', 'GRAPHQL_PARSE_FAILED');
    const { query, variables } = (recorded.body ?? {}) as { query?: string; variables?: Record<string, unknown> };
    const name = /^\s*(?:query|mutation)\s+(\w+)/.exec(query ?? '')?.[1] ?? '';
    const operation = operations[name];
    if (!operation || !operation.roots.every((root) => query!.includes(root))) return error(400, `fake Linear does not know operation "${name || '(anonymous)'}"`, 'graphql error', 'GRAPHQL_VALIDATION_FAILED');
    try {
      send(200, { data: operation.run(variables ?? {}) });
    } catch (e) {
      if (e instanceof GraphqlError) error(e.status, e.message, e.type, e.code);
      else error(500, `fake Linear crashed: ${(e as Error).message}`, 'internal error', 'INTERNAL_SERVER_ERROR');
    }
  }

  const server = createServer((request, response) => void handle(request, response).catch(() => response.destroy()));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;

  return {
    url, apiKey, urlKey, requests, workspaceLabels,
    team: (key) => team(key),
    seedIssue,
    issue: find,
    stateName: (i) => stateOf(i).name,
    labelNames: (i) => labelsOf(i).map((l) => l.name),
    webhookPayload(i, action, updatedFrom) {
      const t = team(i.teamKey);
      const state = stateOf(i);
      return {
        action, type: 'Issue', createdAt: i.updatedAt, organizationId: 'org-fake', webhookId: 'webhook-fake', webhookTimestamp: Date.now(),
        actor: { id: 'user-labeller', name: 'Lee Labeller', type: 'user' },
        ...(action === 'remove' ? {} : { url: issueUrl(i) }),
        ...(updatedFrom ? { updatedFrom } : {}),
        data: {
          id: i.id, identifier: i.identifier, number: i.number, title: i.title, description: i.description, createdAt: i.createdAt, updatedAt: i.updatedAt,
          teamId: t.id, stateId: state.id, creatorId: i.creator.id, labelIds: [...i.labelIds], state: { id: state.id, name: state.name, type: state.type, color: '#e2e2e2' },
          team: { id: t.id, key: t.key, name: t.key }, labels: labelsOf(i).map((l) => ({ id: l.id, name: l.name, color: '#4EA7FC' })),
        },
      };
    },
    operations: (name) => requests.filter((r) => (r.body as { query?: string } | null)?.query?.match(/^\s*(?:query|mutation)\s+(\w+)/)?.[1] === name),
    setFault: (fn) => {
      fault = fn;
    },
    close: () => closeFakeServer(server, timers),
  };
}
