/**
 * deflect's own account on each tracker, looked up once at start-up so routing ignores the events deflect itself
 * causes (its comments, the labels and states it sets): without it, a label a handler adds could match another rule
 * and loop until the per-ticket action cap (`DEFLECT_MAX_ACTIONS_PER_HOUR`) stops it.
 *
 * - GitHub: `GET /user` → `login` (the `sender.login` of the events the token causes;
 *   https://docs.github.com/en/rest/users/users#get-the-authenticated-user). An installation token of a GitHub App
 *   cannot call it (403); its events come from `<app-slug>[bot]`, which is then not known and a warning says so.
 * - Linear: `viewer { id }` (the `actor.id` of the events the API key causes; https://linear.app/developers/graphql).
 * - Trello: `GET /1/members/me` → `id` (the `idMemberCreator` of the actions the token causes;
 *   https://developer.atlassian.com/cloud/trello/rest/api-group-members/#api-members-id-get, `me` = the token's member).
 * Jira's own account is looked up by `server.ts` (`JIRA_ACCOUNT_ID` or `/myself`).
 */
import type { Logger } from 'pino';
import type { GitHubIssuesClient } from './github/github-client.js';
import type { TrackerClients } from './index.js';
import type { LinearApi } from './linear/linear-api.js';
import type { TrelloClient } from './trello/trello-client.js';
import type { TrackerName } from './tracker.js';

/**
 * The account id (GitHub login, Linear user id) of each configured tracker client, by tracker. A failed lookup is
 * logged as a warning and leaves that tracker out (its own events then reach the rules). Never throws.
 */
export async function lookUpSelfActors(clients: TrackerClients, logger: Logger): Promise<Partial<Record<TrackerName, string>>> {
  const found: Partial<Record<TrackerName, string>> = {};
  const github = clients.github as GitHubIssuesClient | null | undefined;
  const linear = clients.linear as LinearApi | null | undefined;
  const trello = clients.trello as TrelloClient | null | undefined;
  await Promise.all([
    github &&
      github
        .request<{ login?: string }>('GET /user')
        .then(({ data }) => {
          if (data.login) found.github = data.login;
        })
        .catch((error: unknown) =>
          logger.warn(`could not look up deflect's own GitHub account (${(error as Error).message}); events it causes are not recognised as its own`),
        ),
    linear &&
      linear
        .request<{ viewer?: { id?: string } }>('query DeflectViewer { viewer { id } }')
        .then((data) => {
          if (data.viewer?.id) found.linear = data.viewer.id;
        })
        .catch((error: unknown) =>
          logger.warn(`could not look up deflect's own Linear account (${(error as Error).message}); events it causes are not recognised as its own`),
        ),
    trello &&
      trello
        .request<{ id?: string }>('GET', '/1/members/me', { query: { fields: 'id,username' } })
        .then((me) => {
          if (me?.id) found.trello = me.id;
        })
        .catch((error: unknown) =>
          logger.warn(`could not look up deflect's own Trello member (${(error as Error).message}); events it causes are not recognised as its own`),
        ),
  ]);
  return found;
}
