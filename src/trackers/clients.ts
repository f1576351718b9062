/**
 * The API clients of the trackers other than Jira (whose client `server.ts` builds with its start-up checks), built once
 * at start-up from the configuration. A tracker without credentials gets no client: its runs are queued as dry runs.
 */
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { createGitHubIssuesClient } from './github/github-client.js';
import type { TrackerClients } from './index.js';
import { createLinearApi } from './linear/linear-api.js';
import { createTrelloClient } from './trello/trello-client.js';

/** Builds the clients; sends no request (a bad credential shows up on the first call, as `transient: false`). */
export function createTrackerClients(config: Config, logger: Logger): TrackerClients {
  const clients: TrackerClients = {};
  if (config.dryRun) return clients;
  // GitHub Issues: GITHUB_TOKEN (a personal access token or an installation token) against GITHUB_API_URL.
  if (config.github.token) {
    clients.github = createGitHubIssuesClient({ baseUrl: config.github.baseUrl, token: config.github.token, timeoutMs: config.github.timeoutMs, log: logger });
  }
  // Linear: a personal API key (LINEAR_API_KEY) against LINEAR_API_URL.
  if (config.linear) {
    clients.linear = createLinearApi(config.linear);
    logger.info({ apiUrl: config.linear.apiUrl }, 'Linear actions enabled');
  }
  // Trello: the app key and a member token (TRELLO_API_KEY, TRELLO_TOKEN) against TRELLO_API_URL.
  if (config.trello?.api) {
    clients.trello = createTrelloClient({ ...config.trello.api, lists: config.trello.lists });
    logger.info({ apiUrl: config.trello.api.apiUrl, lists: config.trello.lists }, 'Trello actions enabled');
  }
  return clients;
}
