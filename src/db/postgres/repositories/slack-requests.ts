/**
 * PostgreSQL twin of `../../slack-requests.ts` (tables `slack_requests`, `slack_events`; issue 15). Where the SQL
 * differs, and why:
 * - {@link recordSlackRequest}: `INSERT … ON CONFLICT (view_id) DO NOTHING RETURNING id` gives the new id (SQLite:
 *   `lastInsertRowid` when `changes` is 1), and no row when the view was recorded already.
 * - camelCase aliases are quoted (PostgreSQL folds unquoted names to lower case).
 * Once-only across replicas: {@link claimSlackEvent} and {@link recordSlackRequest} rely on the unique index (the
 * primary key `event_id`, the unique `view_id`), not on a read before the write. When two replicas insert the same key
 * at once, the second INSERT waits for the first transaction and then does nothing (or inserts, if the first rolled
 * back): exactly one caller gets true / an id. https://www.postgresql.org/docs/15/sql-insert.html#SQL-ON-CONFLICT
 */
import type { NewSlackRequest } from '../../slack-requests.js';
import type { SlackRequestRow } from '../../schema.js';
import type { Repositories } from '../../store.js';
import type { PgSession } from '../pg-session.js';

export const slackRequests = (pg: PgSession): Repositories['slackRequests'] => ({
  recordSlackRequest: async (request: NewSlackRequest, now = Date.now()) => {
    const [row] = await pg.query<{ id: number }>(
      `INSERT INTO slack_requests (view_id, team_id, user_id, rule_name, handler, status, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, 'filing', $6, $7) ON CONFLICT (view_id) DO NOTHING RETURNING id`,
      [request.viewId, request.teamId, request.userId, request.ruleName, request.handler, now, now],
    );
    return row ? row.id : null;
  },

  markSlackRequest: async (id, outcome, now = Date.now()) => {
    await pg.execute(
      'UPDATE slack_requests SET status = $1, ticket_key = $2, ticket_url = $3, error = $4, channel_id = COALESCE($5, channel_id), updated_at = $6 WHERE id = $7',
      [outcome.status, outcome.ticketKey ?? null, outcome.ticketUrl ?? null, outcome.error ?? null, outcome.channelId ?? null, now, id],
    );
  },

  findSlackRequestByTicket: async (ticketKey: string) => {
    const [row] = await pg.query<SlackRequestRow>(
      `SELECT id, view_id AS "viewId", team_id AS "teamId", user_id AS "userId", channel_id AS "channelId", rule_name AS "ruleName", handler,
              ticket_key AS "ticketKey", ticket_url AS "ticketUrl", status, error, created_at AS "createdAt", updated_at AS "updatedAt"
       FROM slack_requests WHERE ticket_key = $1 ORDER BY id DESC LIMIT 1`,
      [ticketKey],
    );
    return row;
  },

  claimSlackEvent: async (eventId: string, now = Date.now()) =>
    (await pg.execute('INSERT INTO slack_events (event_id, received_at) VALUES ($1, $2) ON CONFLICT DO NOTHING', [eventId, now])) === 1,
});
