/**
 * (Slack, issue 15) Tables `slack_requests` (who asked for which ticket in Slack) and `slack_events` (Events API ids
 * already handled). SQL only; the flow is in src/slack/. Times are epoch ms.
 */
import type { Db } from './client.js';
import type { SlackRequestRow } from './schema.js';
import { statement } from './statements.js';

/** A submitted request modal to record. */
export interface NewSlackRequest {
  viewId: string;
  teamId: string | null;
  userId: string;
  ruleName: string;
  handler: string;
}

/**
 * Records a submitted request as `filing`. Returns its id, or null when this view was already recorded (Slack sent the
 * submission again): the caller then does nothing more.
 */
export function recordSlackRequest(db: Db, request: NewSlackRequest, now = Date.now()): number | null {
  const result = statement(
    db,
    `INSERT INTO slack_requests (view_id, team_id, user_id, rule_name, handler, status, created_at, updated_at)
     VALUES (?, ?, ?, ?, ?, 'filing', ?, ?) ON CONFLICT (view_id) DO NOTHING`,
  ).run(request.viewId, request.teamId, request.userId, request.ruleName, request.handler, now, now);
  return result.changes === 1 ? Number(result.lastInsertRowid) : null;
}

/** Sets the outcome of filing request `id`: `filed` with its ticket, or `dry-run` / `failed` with why. */
export function markSlackRequest(
  db: Db,
  id: number,
  outcome: { status: 'filed' | 'dry-run' | 'failed'; ticketKey?: string | null; ticketUrl?: string | null; error?: string | null; channelId?: string | null },
  now = Date.now(),
): void {
  statement(db, 'UPDATE slack_requests SET status = ?, ticket_key = ?, ticket_url = ?, error = ?, channel_id = COALESCE(?, channel_id), updated_at = ? WHERE id = ?').run(
    outcome.status,
    outcome.ticketKey ?? null,
    outcome.ticketUrl ?? null,
    outcome.error ?? null,
    outcome.channelId ?? null,
    now,
    id,
  );
}

/** The Slack request that filed ticket `ticketKey`, or undefined (the ticket did not come from Slack). */
export function findSlackRequestByTicket(db: Db, ticketKey: string): SlackRequestRow | undefined {
  const row = statement(
    db,
    `SELECT id, view_id AS viewId, team_id AS teamId, user_id AS userId, channel_id AS channelId, rule_name AS ruleName, handler,
            ticket_key AS ticketKey, ticket_url AS ticketUrl, status, error, created_at AS createdAt, updated_at AS updatedAt
     FROM slack_requests WHERE ticket_key = ? ORDER BY id DESC LIMIT 1`,
  ).get(ticketKey);
  return row as SlackRequestRow | undefined;
}

/**
 * Records an Events API `event_id` as handled. Returns false when it was already recorded (a retry, or a duplicate
 * delivery): the caller acknowledges and does nothing.
 */
export function claimSlackEvent(db: Db, eventId: string, now = Date.now()): boolean {
  return statement(db, 'INSERT INTO slack_events (event_id, received_at) VALUES (?, ?) ON CONFLICT DO NOTHING').run(eventId, now).changes === 1;
}
