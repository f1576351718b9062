/**
 * The API clients of the trackers other than Jira (whose client `server.ts` builds with its start-up checks), built once
 * at start-up from the configuration. A tracker without credentials gets no client: its runs are queued as dry runs.
 */
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { TrackerClients } from './index.js';
import { createLinearApi } from './linear/linear-api.js';

/** Builds the clients; sends no request (a bad credential shows up on the first call, as `transient: false`). */
export function createTrackerClients(config: Config, logger: Logger): TrackerClients {
  const clients: TrackerClients = {};
  if (config.dryRun) return clients;
  // Linear: a personal API key (LINEAR_API_KEY) against LINEAR_API_URL.
  if (config.linear) {
    clients.linear = createLinearApi(config.linear);
    logger.info({ apiUrl: config.linear.apiUrl }, 'Linear actions enabled');
  }
  return clients;
}
