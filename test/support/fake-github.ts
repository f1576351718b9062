/**
 * A fake GitHub REST API for tests and the demo: a real `node:http` server on 127.0.0.1 (random port) answering the
 * calls deflect's handlers make, with GitHub's status codes and body shapes, and recording every request.
 *
 * Mimicked (https://docs.github.com/en/rest):
 * - `PUT  /repos/{owner}/{repo}/collaborators/{username}` `{ permission }` → 201 invitation (the user is not in the
 *   organization yet; repeating it while the invitation is pending answers 201 with the same invitation, role updated),
 *   204 (already a collaborator, or an organization member: role set); 422 for an unknown permission
 *   (collaborators#add-a-repository-collaborator).
 * - `POST /repos/{template_owner}/{template_repo}/generate` `{ owner, name, private, description }` → 201 repository;
 *   404 when the template does not exist or is not a template; 422 when the name exists (repos#create-a-repository-using-a-template).
 * - `GET  /repos/{owner}/{repo}` → 200 repository (repos#get-a-repository).
 * - `PUT  /orgs/{org}/teams/{team_slug}/repos/{owner}/{repo}` `{ permission }` → 204 (teams#add-or-update-team-repository-permissions).
 * - The issues endpoints (list, get, update, comments, labels, assignees): see `fake-github-issues.ts`.
 * Unknown repositories answer 404 `{ message: 'Not Found', documentation_url }`. Every request needs
 * `Authorization: Bearer <token>` or `token <token>`, else 401 `{ message: 'Bad credentials' }`.
 *
 * Faults: `setFault(req => fault)` is consulted for every request after it is recorded, as in fake-jira:
 * `{ status, headers?, body? }` answers that instead, `{ delayMs }` answers normally after a delay (the write is applied
 * then, even if the client gave up), `{ reset: true }` destroys the socket.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createFakeIssueStore, type FakeAnswer, type FakeIssue, type SeedIssue } from './fake-github-issues.js';
import { applyFault, closeFakeServer, recordRequest, type Fault, type RecordedRequest } from './recorded-request.js';

export type { FakeComment, FakeIssue, SeedIssue } from './fake-github-issues.js';

export type { Fault, RecordedRequest } from './recorded-request.js';

/** A repository the fake knows. `collaborators` maps login → GitHub permission; `teams` maps `org/slug` → permission. */
export interface FakeRepository {
  id: number;
  owner: string;
  name: string;
  private: boolean;
  isTemplate: boolean;
  description: string | null;
  template: string | null;
  collaborators: Map<string, string>;
  teams: Map<string, string>;
}

/** A pending repository invitation. */
export interface FakeInvitation {
  id: number;
  repository: string;
  invitee: string;
  permission: string;
}

export interface FakeGitHubOptions {
  /** The token requests must carry (default `test-github-token`). */
  token?: string;
  /** Repositories that exist at start, `owner/name` (default: {@link DEFAULT_REPOSITORIES}). Templates are named `template-*`. */
  repositories?: string[];
  /** Logins that are members of every organization: adding them answers 204 instead of an invitation. */
  orgMembers?: string[];
}

export interface FakeGitHub {
  /** API root to use as `GITHUB_API_URL`, e.g. `http://127.0.0.1:54321` (no trailing slash). */
  readonly url: string;
  /** The token it accepts. */
  readonly token: string;
  /** Every request received, in arrival order. */
  readonly requests: RecordedRequest[];
  /** Adds a repository (`owner/name`); `template-*` names are templates. Returns its stored state. */
  seedRepository(fullName: string, options?: { isTemplate?: boolean; private?: boolean; description?: string }): FakeRepository;
  /** The stored state of a repository, or undefined. */
  repository(fullName: string): FakeRepository | undefined;
  /** Adds an issue (or with `pullRequest: true` a pull request) to a known repository; see `fake-github-issues.ts`. */
  seedIssue(repository: string, seed?: SeedIssue): FakeIssue;
  /** The stored issue `repository#number`, or undefined. */
  issue(repository: string, number: number): FakeIssue | undefined;
  /** Pending invitations (all, or for one repository). */
  invitations(fullName?: string): FakeInvitation[];
  /** Recorded requests with this method whose path starts with `pathPrefix`. */
  requestsTo(method: string, pathPrefix: string): RecordedRequest[];
  /** Installs (or with undefined removes) the fault hook. */
  setFault(fn: ((req: RecordedRequest) => Fault | undefined) | undefined): void;
  /** Stops the server, dropping open connections. */
  close(): Promise<void>;
}

/** Repositories every fake starts with: the example payloads' repository and the platform templates of `acme`. */
export const DEFAULT_REPOSITORIES = ['acme/payments-api', 'acme/api', 'acme/web', 'acme/template-service', 'acme/template-library', 'acme/template-terraform-module'];

const DOCS = 'https://docs.github.com/rest';
const PERMISSIONS = ['pull', 'triage', 'push', 'maintain', 'admin'];

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
  ) {
    super(`HTTP ${status}`);
  }
}

const notFound = (docs: string) => new HttpError(404, { message: 'Not Found', documentation_url: `${DOCS}/${docs}`, status: '404' });

/**
 * Starts a fake GitHub on 127.0.0.1 with a random port. Close it with `close()`.
 * @example const github = await startFakeGitHub(); // env: GITHUB_API_URL=github.url, GITHUB_TOKEN=github.token
 */
export async function startFakeGitHub(options: FakeGitHubOptions = {}): Promise<FakeGitHub> {
  const token = options.token ?? 'test-github-token';
  const members = new Set((options.orgMembers ?? []).map((m) => m.toLowerCase()));
  const requests: RecordedRequest[] = [];
  const repositories = new Map<string, FakeRepository>();
  const invitations: FakeInvitation[] = [];
  const timers = new Set<NodeJS.Timeout>();
  let fault: ((req: RecordedRequest) => Fault | undefined) | undefined;
  let nextId = 1_000;
  let url = '';

  function seedRepository(fullName: string, seed: { isTemplate?: boolean; private?: boolean; description?: string } = {}): FakeRepository {
    const [owner, name] = fullName.split('/');
    const repo: FakeRepository = {
      id: nextId++,
      owner,
      name,
      private: seed.private ?? true,
      isTemplate: seed.isTemplate ?? name.startsWith('template-'),
      description: seed.description ?? null,
      template: null,
      collaborators: new Map(),
      teams: new Map(),
    };
    repositories.set(fullName.toLowerCase(), repo);
    return repo;
  }
  for (const name of options.repositories ?? DEFAULT_REPOSITORIES) seedRepository(name);

  const find = (owner: string, name: string) => repositories.get(`${owner}/${name}`.toLowerCase());
  const fullNameOf = (r: FakeRepository) => `${r.owner}/${r.name}`;
  const repoJson = (r: FakeRepository) => ({
    id: r.id,
    node_id: `R_${r.id}`,
    name: r.name,
    full_name: fullNameOf(r),
    private: r.private,
    visibility: r.private ? 'private' : 'public',
    owner: { login: r.owner, type: 'Organization' },
    html_url: `https://github.com/${fullNameOf(r)}`,
    description: r.description,
    clone_url: `https://github.com/${fullNameOf(r)}.git`,
    ssh_url: `git@github.com:${fullNameOf(r)}.git`,
    default_branch: 'main',
    is_template: r.isTemplate,
    ...(r.template ? { template_repository: { full_name: r.template } } : {}),
  });

  const issues = createFakeIssueStore(() => url, (owner, name) => { const r = find(owner, name); return r ? fullNameOf(r) : undefined; }, () => nextId++);

  /** Routes one request; returns [status, body, headers?] (body undefined = empty). */
  function route(req: RecordedRequest): FakeAnswer {
    const answered = issues.route(req);
    if (answered) return answered;
    // The account the token belongs to (deflect looks it up to ignore its own events).
    if (req.method === 'GET' && req.path === '/user') return [200, { login: 'deflect-bot', id: 1, type: 'User' }];
    const body = (req.body ?? {}) as Record<string, unknown>;
    let m = /^\/repos\/([^/]+)\/([^/]+)\/collaborators\/([^/]+)$/.exec(req.path);
    if (m && req.method === 'PUT') {
      const repo = find(m[1], m[2]);
      if (!repo) throw notFound('collaborators/collaborators#add-a-repository-collaborator');
      const login = decodeURIComponent(m[3]);
      const permission = typeof body.permission === 'string' ? body.permission : 'push';
      if (!PERMISSIONS.includes(permission)) {
        throw new HttpError(422, { message: 'Validation Failed', errors: [{ resource: 'Repository', field: 'permission', code: 'invalid' }], documentation_url: DOCS });
      }
      if (repo.collaborators.has(login.toLowerCase()) || members.has(login.toLowerCase())) {
        repo.collaborators.set(login.toLowerCase(), permission);
        return [204, undefined];
      }
      let invitation = invitations.find((i) => i.repository === fullNameOf(repo) && i.invitee === login.toLowerCase());
      if (invitation) invitation.permission = permission;
      else invitations.push((invitation = { id: nextId++, repository: fullNameOf(repo), invitee: login.toLowerCase(), permission }));
      return [
        201,
        {
          id: invitation.id,
          node_id: `RI_${invitation.id}`,
          repository: { id: repo.id, full_name: fullNameOf(repo), html_url: `https://github.com/${fullNameOf(repo)}` },
          invitee: { login },
          inviter: { login: 'deflect-bot' },
          permissions: permission === 'push' ? 'write' : permission === 'pull' ? 'read' : permission,
          created_at: new Date().toISOString(),
          expired: false,
          url: `${url}/user/repository_invitations/${invitation.id}`,
          html_url: `https://github.com/${fullNameOf(repo)}/invitations`,
        },
      ];
    }
    m = /^\/repos\/([^/]+)\/([^/]+)\/generate$/.exec(req.path);
    if (m && req.method === 'POST') {
      const template = find(m[1], m[2]);
      if (!template || !template.isTemplate) throw notFound('repos/repos#create-a-repository-using-a-template');
      const owner = typeof body.owner === 'string' ? body.owner : m[1];
      const name = typeof body.name === 'string' ? body.name : '';
      if (!name) throw new HttpError(422, { message: 'Invalid request.\n\n"name" wasn\'t supplied.', documentation_url: DOCS });
      if (find(owner, name)) {
        throw new HttpError(422, {
          message: 'Repository creation failed.',
          errors: [{ resource: 'Repository', code: 'custom', field: 'name', message: 'name already exists on this account' }],
          documentation_url: `${DOCS}/repos/repos#create-a-repository-using-a-template`,
        });
      }
      const repo = seedRepository(`${owner}/${name}`, { isTemplate: false, private: body.private === true, description: typeof body.description === 'string' ? body.description : undefined });
      repo.template = fullNameOf(template);
      return [201, repoJson(repo)];
    }
    m = /^\/repos\/([^/]+)\/([^/]+)$/.exec(req.path);
    if (m && req.method === 'GET') {
      const repo = find(m[1], m[2]);
      if (!repo) throw notFound('repos/repos#get-a-repository');
      return [200, repoJson(repo)];
    }
    m = /^\/orgs\/([^/]+)\/teams\/([^/]+)\/repos\/([^/]+)\/([^/]+)$/.exec(req.path);
    if (m && req.method === 'PUT') {
      const repo = find(m[3], m[4]);
      if (!repo) throw notFound('teams/teams#add-or-update-team-repository-permissions');
      const permission = typeof body.permission === 'string' ? body.permission : 'push';
      if (!PERMISSIONS.includes(permission)) throw new HttpError(422, { message: 'Validation Failed', errors: [{ field: 'permission', code: 'invalid' }], documentation_url: DOCS });
      repo.teams.set(`${m[1]}/${m[2]}`.toLowerCase(), permission);
      return [204, undefined];
    }
    throw new HttpError(404, { message: 'Not Found', documentation_url: DOCS, status: '404' });
  }

  async function handle(request: IncomingMessage, response: ServerResponse) {
    const { recorded } = await recordRequest(request);
    requests.push(recorded);

    const send = (status: number, payload: unknown, headers: Record<string, string> = {}) => {
      if (response.destroyed || response.writableEnded) return;
      const text = payload === undefined ? '' : JSON.stringify(payload);
      response.writeHead(status, { ...(text ? { 'content-type': 'application/json; charset=utf-8' } : {}), 'x-github-api-version-selected': '2022-11-28', ...headers });
      response.end(text);
    };

    if (await applyFault(fault?.(recorded), request, send, timers, (status) => ({ message: `fault ${status}`, documentation_url: DOCS }))) return;

    const auth = request.headers.authorization ?? '';
    if (auth !== `Bearer ${token}` && auth !== `token ${token}`) {
      return send(401, { message: 'Bad credentials', documentation_url: DOCS, status: '401' });
    }
    try {
      const [status, payload, headers] = route(recorded);
      send(status, payload, headers);
    } catch (error) {
      if (error instanceof HttpError) send(error.status, error.body);
      else send(500, { message: `fake GitHub crashed: ${(error as Error).message}` });
    }
  }

  const server = createServer((request, response) => {
    handle(request, response).catch(() => response.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url,
    token,
    requests,
    seedRepository,
    repository: (fullName) => repositories.get(fullName.toLowerCase()),
    seedIssue: issues.seedIssue,
    issue: issues.issue,
    invitations: (fullName) => invitations.filter((i) => fullName === undefined || i.repository.toLowerCase() === fullName.toLowerCase()),
    requestsTo: (method, pathPrefix) => requests.filter((r) => r.method === method.toUpperCase() && r.path.startsWith(pathPrefix)),
    setFault: (fn) => {
      fault = fn;
    },
    close: () => closeFakeServer(server, timers),
  };
}
