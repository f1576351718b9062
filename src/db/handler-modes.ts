/**
 * (verified resolution) Table `handler_mode_changes`: a handler's mode set outside the rules file — `shadow` when
 * deflect demoted it, `live` when a person put it back. The latest row per handler is in force. Times are epoch ms.
 */
import type { Db } from './client.js';
import { statement } from './statements.js';
import type { HandlerModeChangeRow } from './verification-schema.js';

const SELECT = 'SELECT id, handler, mode, at, by, reason FROM handler_mode_changes';

/** Appends a mode change (the audit entry a lead sees). */
export function recordHandlerModeChange(db: Db, change: Omit<HandlerModeChangeRow, 'id' | 'at'>, now = Date.now()): number {
  const row = statement(db, 'INSERT INTO handler_mode_changes (handler, mode, at, by, reason) VALUES (?, ?, ?, ?, ?) RETURNING id').get(
    change.handler,
    change.mode,
    now,
    change.by,
    change.reason.slice(0, 1000),
  ) as { id: number };
  return row.id;
}

/** The latest mode change of each handler that has one, by handler. */
export function currentHandlerModes(db: Db): Map<string, HandlerModeChangeRow> {
  const rows = statement(db, `${SELECT} WHERE id IN (SELECT max(id) FROM handler_mode_changes GROUP BY handler)`).all() as HandlerModeChangeRow[];
  return new Map(rows.map((r) => [r.handler, r]));
}

/** Every mode change, newest first (at most `limit`, default 100), optionally of one handler. */
export function listHandlerModeChanges(db: Db, options: { handler?: string; limit?: number } = {}): HandlerModeChangeRow[] {
  return options.handler
    ? (statement(db, `${SELECT} WHERE handler = ? ORDER BY id DESC LIMIT ?`).all(options.handler, options.limit ?? 100) as HandlerModeChangeRow[])
    : (statement(db, `${SELECT} ORDER BY id DESC LIMIT ?`).all(options.limit ?? 100) as HandlerModeChangeRow[]);
}
