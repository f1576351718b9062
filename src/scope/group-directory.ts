/**
 * Group / team membership lookups of the three trackers, for rule `groups` (issue 11, early adopters). Read-only
 * calls with the tracker credentials deflect already has; built whether or not deflect runs dry (a membership read
 * sends nothing to a ticket). Every failure becomes an answer `{ error }` naming the tracker, the call and the HTTP
 * status — never the error object, whose request config carries the credentials.
 *
 * Protocol facts:
 * - Jira Cloud: `GET /rest/api/3/user/groups?accountId=` → `[{ name, groupId, self }]` (shared OpenAPI
 *   `swagger-v3.v3.json`, "Get user groups"; jira.js `users.getUserGroups`); 404 = no such user.
 * - Jira Data Center: `GET /rest/api/2/user?username=&expand=groups` → `{ groups: { items: [{ name }] } }` (Jira Server
 *   REST reference, "user" resource; sent through jira.js `sendRequest`, as its typed `getUser` knows only accountId).
 * - GitHub: `GET /orgs/{org}/teams/{team_slug}/memberships/{username}` → 200 `{ state: 'active' | 'pending' }`, 404 when
 *   the user is not a member (https://docs.github.com/en/rest/teams/members#get-team-membership-for-a-user); a group is
 *   written `org/team-slug`. Only `active` counts.
 * - Linear: GraphQL `user(id) { teams { nodes { key name } } }` (https://studio.apollographql.com/public/Linear-API);
 *   a group matches a team key or name, case-insensitively.
 */
import { Version2Client, Version3Client } from 'jira.js';
import type { Config } from '../config.js';
import type { JiraConfig } from '../jira/jira-config.js';
import type { MembershipAnswer } from '../rules/scope.js';
import { createGitHubIssuesClient, type GitHubIssuesClient } from '../trackers/github/github-client.js';
import { createLinearApi, type LinearApi } from '../trackers/linear/linear-api.js';
import type { TrackerName } from '../trackers/tracker.js';

/** Answers, for one user of one tracker, whether they are in each of `groups` (keys: the groups as given). */
export type GroupDirectory = Partial<Record<TrackerName, (user: string, groups: readonly string[]) => Promise<Map<string, MembershipAnswer>>>>;

/** The reason of a failed lookup: status and call only (no body, no headers). */
function failure(tracker: string, call: string, error: unknown): string {
  const e = error as { status?: unknown; response?: { status?: unknown }; code?: unknown; message?: unknown };
  const status = typeof e?.status === 'number' ? e.status : typeof e?.response?.status === 'number' ? e.response.status : null;
  if (status === 404) return `${tracker} ${call} → 404 (no such user or group)`;
  if (status !== null) return `${tracker} ${call} → HTTP ${status}`;
  return `${tracker} ${call} failed (${typeof e?.code === 'string' ? e.code : 'no answer'})`;
}

const all = (groups: readonly string[], answer: MembershipAnswer) => new Map(groups.map((g) => [g, answer]));
const byName = (groups: readonly string[], names: Iterable<string>) => {
  const have = new Set([...names].map((n) => n.toLowerCase()));
  return new Map<string, MembershipAnswer>(groups.map((g) => [g, { member: have.has(g.toLowerCase()) }]));
};

/** Jira groups of one user (Cloud: by accountId; Data Center: by user name). */
export function jiraGroupLookup(jira: JiraConfig, timeoutMs: number) {
  const baseRequestConfig = { timeout: timeoutMs, transitional: { clarifyTimeoutError: true } };
  if (jira.deployment === 'datacenter') {
    const client = new Version2Client({ host: jira.baseUrl, authentication: { oauth2: { accessToken: jira.pat } }, baseRequestConfig });
    return async (user: string, groups: readonly string[]) => {
      try {
        // jira.js models Cloud's v2 (accountId only), so the Data Center query is sent as a plain request.
        const found = await client.sendRequest<{ groups?: { items?: Array<{ name?: string }> } }>(
          { url: '/rest/api/2/user', method: 'GET', params: { username: user, expand: 'groups' } },
          undefined as never,
        );
        return byName(groups, (found.groups?.items ?? []).map((g) => g.name ?? ''));
      } catch (error) {
        return all(groups, { error: failure('Jira', 'GET /rest/api/2/user?expand=groups', error) });
      }
    };
  }
  const client = new Version3Client({ host: jira.baseUrl, authentication: { basic: { email: jira.email, apiToken: jira.apiToken } }, baseRequestConfig });
  return async (user: string, groups: readonly string[]) => {
    try {
      const found = await client.users.getUserGroups({ accountId: user });
      return byName(groups, found.map((g) => g.name ?? ''));
    } catch (error) {
      return all(groups, { error: failure('Jira', 'GET /rest/api/3/user/groups', error) });
    }
  };
}

/** GitHub team membership, one call per `org/team-slug`. */
export function githubTeamLookup(client: GitHubIssuesClient) {
  return async (user: string, groups: readonly string[]) => {
    const answers = await Promise.all(
      groups.map(async (group): Promise<[string, MembershipAnswer]> => {
        const match = /^([A-Za-z0-9-]+)\/([A-Za-z0-9_.-]+)$/.exec(group.trim());
        if (!match) return [group, { error: `GitHub group "${group}" is not written org/team-slug` }];
        try {
          const { data } = await client.request<{ state?: string }>('GET /orgs/{org}/teams/{team_slug}/memberships/{username}', {
            org: match[1],
            team_slug: match[2],
            username: user,
          });
          return [group, { member: data?.state === 'active' }];
        } catch (error) {
          if ((error as { status?: unknown }).status === 404) return [group, { member: false }];
          return [group, { error: failure('GitHub', 'GET /orgs/{org}/teams/{team_slug}/memberships/{username}', error) }];
        }
      }),
    );
    return new Map(answers);
  };
}

/** GraphQL query of a Linear user's teams (first 250: a workspace rarely has more). */
export const LINEAR_USER_TEAMS_QUERY = `query DeflectUserTeams($id: String!) { user(id: $id) { teams(first: 250) { nodes { key name } } } }`;

/** Linear team membership: the user's teams, matched by key or name. */
export function linearTeamLookup(api: LinearApi) {
  return async (user: string, groups: readonly string[]) => {
    try {
      const data = await api.request<{ user?: { teams?: { nodes?: Array<{ key?: string; name?: string }> } } | null }>(LINEAR_USER_TEAMS_QUERY, { id: user });
      const teams = data?.user?.teams?.nodes ?? [];
      return byName(groups, teams.flatMap((t) => [t.key ?? '', t.name ?? '']));
    } catch (error) {
      return all(groups, { error: failure('Linear', 'user.teams', error) });
    }
  };
}

/**
 * The directory for the configured trackers (a tracker without credentials has none: its `groups` rules answer
 * "cannot look up" through the cache). Sends no request until asked.
 */
export function createGroupDirectory(config: Pick<Config, 'jira' | 'jiraTimeoutMs' | 'github' | 'linear'>): GroupDirectory {
  const directory: GroupDirectory = {};
  if (config.jira) directory.jira = jiraGroupLookup(config.jira, config.jiraTimeoutMs);
  if (config.github.token) {
    directory.github = githubTeamLookup(createGitHubIssuesClient({ baseUrl: config.github.baseUrl, token: config.github.token, timeoutMs: config.github.timeoutMs }));
  }
  if (config.linear) directory.linear = linearTeamLookup(createLinearApi(config.linear));
  return directory;
}
