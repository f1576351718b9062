/**
 * A fake of the trackers' group/team membership endpoints (rule `groups`, issue 11), kept apart from fake-jira.ts,
 * fake-github.ts and fake-linear.ts (each near 400 lines). A real `node:http` server on 127.0.0.1 (random port) that
 * records every request. One server answers all three trackers' paths, so a test points each client's base URL at it:
 * - Jira Cloud `GET /rest/api/3/user/groups?accountId=` → 200 `[{ name, groupId, self }]`, 404 `{ errorMessages }`;
 * - Jira Data Center `GET /rest/api/2/user?username=&expand=groups` → 200 `{ name, groups: { size, items: [{ name }] } }`, 404;
 * - GitHub `GET /orgs/{org}/teams/{team}/memberships/{username}` → 200 `{ state, role, url }` (`state: 'pending'` for an
 *   invitation), 404 `{ message: 'Not Found' }` for a non-member;
 * - Linear `POST /graphql` operation `DeflectUserTeams` → `{ data: { user: { teams: { nodes: [{ key, name }] } } } }`,
 *   `{ errors: [...] }` for an unknown user (as Linear answers `Entity not found`).
 * `setFault(req => ({ status }))` makes a request answer that status instead (a tracker outage).
 */
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { closeFakeServer, recordRequest, type RecordedRequest } from './recorded-request.js';

export interface FakeMembershipsSeed {
  /** Jira user (accountId or DC user name) → group names. */
  jira?: Record<string, string[]>;
  /** `org/team` → logins with an active membership (`login:pending` for a pending invitation). */
  github?: Record<string, string[]>;
  /** Linear user id → teams. */
  linear?: Record<string, Array<{ key: string; name: string }>>;
}

export interface FakeMemberships {
  url: string;
  requests: RecordedRequest[];
  setFault(fault: ((req: RecordedRequest) => { status: number } | undefined) | null): void;
  close(): Promise<void>;
}

export async function startFakeMemberships(seed: FakeMembershipsSeed): Promise<FakeMemberships> {
  const requests: RecordedRequest[] = [];
  let fault: ((req: RecordedRequest) => { status: number } | undefined) | null = null;
  const send = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const server = createServer(async (req, res) => {
    const { recorded } = await recordRequest(req);
    requests.push(recorded);
    const injected = fault?.(recorded);
    if (injected) return send(res, injected.status, { message: `fault ${injected.status}` });
    const jiraNotFound = { errorMessages: ['The user does not exist.'], errors: {} };
    if (recorded.method === 'GET' && recorded.path === '/rest/api/3/user/groups') {
      const groups = seed.jira?.[recorded.query.accountId ?? ''];
      if (!groups) return send(res, 404, jiraNotFound);
      return send(res, 200, groups.map((name, i) => ({ name, groupId: `g-${i}`, self: `${url}/rest/api/3/group?groupId=g-${i}` })));
    }
    if (recorded.method === 'GET' && recorded.path === '/rest/api/2/user') {
      const groups = seed.jira?.[recorded.query.username ?? ''];
      if (!groups || recorded.query.expand !== 'groups') return send(res, 404, jiraNotFound);
      return send(res, 200, { name: recorded.query.username, groups: { size: groups.length, items: groups.map((name) => ({ name })) } });
    }
    const team = /^\/orgs\/([^/]+)\/teams\/([^/]+)\/memberships\/([^/]+)$/.exec(recorded.path);
    if (recorded.method === 'GET' && team) {
      const members = seed.github?.[`${team[1]}/${team[2]}`] ?? [];
      const entry = members.find((m) => m.split(':')[0].toLowerCase() === decodeURIComponent(team[3]).toLowerCase());
      if (!entry) return send(res, 404, { message: 'Not Found', documentation_url: 'https://docs.github.com/rest/teams/members#get-team-membership-for-a-user' });
      return send(res, 200, { state: entry.endsWith(':pending') ? 'pending' : 'active', role: 'member', url: `${url}${recorded.path}` });
    }
    if (recorded.method === 'POST' && recorded.path === '/graphql') {
      const { query, variables } = (recorded.body ?? {}) as { query?: string; variables?: { id?: string } };
      if (!/^\s*query\s+DeflectUserTeams\b/.test(query ?? '')) return send(res, 400, { errors: [{ message: 'fake Linear knows only DeflectUserTeams' }] });
      const teams = seed.linear?.[variables?.id ?? ''];
      if (!teams) return send(res, 200, { data: null, errors: [{ message: 'Entity not found', extensions: { code: 'INVALID_INPUT', type: 'invalid input' } }] });
      return send(res, 200, { data: { user: { teams: { nodes: teams } } } });
    }
    send(res, 404, { message: `fake memberships: no route ${recorded.method} ${recorded.path}` });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    requests,
    setFault(next) {
      fault = next;
    },
    close: () => closeFakeServer(server, new Set()),
  };
}
