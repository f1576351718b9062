/**
 * The impact report's reads (`src/reports/impact-report.ts`): per member ticket of a report row, what it needs to
 * split the row's tickets before and after its automation started. Times are epoch ms. "Automated" and "resolved by
 * deflect" are the report's definitions ({@link automatedRunSql}, {@link deflectResolutionSql}), not written again.
 */
import type { Db } from './client.js';
import { automatedRunSql, deflectResolutionSql } from './report-queries.js';

/** A ticket named by its tracker and display key (a report row's `links`). */
export interface TicketRef {
  tracker: string;
  key: string;
}

/** One ticket as the impact report reads it. */
export interface ImpactTicketRow {
  tracker: string;
  key: string;
  /**
   * The team that filed it: `tickets.project` — the Jira project key, the GitHub repository `owner/name`, the Linear
   * team key; null when the tracker gave none.
   */
  team: string | null;
  /** Who filed it: the reporter's account id (Jira accountId / GitHub login / Linear user id), else the display name. */
  reporter: string | null;
  created: number | null;
  /** The tracker's resolution time, as the last webhook, reconcile or import recorded it. */
  resolved: number | null;
  /** When its first automated run finished (ms; `finished_at`, else `created_at`), or null when none. */
  automatedAt: number | null;
  /** The handler of that run, or null. */
  automatedBy: string | null;
  /**
   * When an automated run applied a transition on it (the first such action's `finished_at` at or after the ticket's
   * `created`: a key filed again later is not resolved by the earlier ticket's run), or null.
   */
  deflectResolvedAt: number | null;
}

/** Refs per statement (each is two JSON values; SQLite's limits are far above this). */
const CHUNK = 500;

/**
 * The tickets of `refs` (every site's ticket of that tracker and key: as the report's rows count them), with their
 * first automated run and deflect's resolution. Unknown refs are absent from the answer.
 */
export function impactTicketRows(db: Db, refs: readonly TicketRef[]): ImpactTicketRow[] {
  const sql = `SELECT t.tracker, t.key, t.project AS team, COALESCE(t.reporter_id, t.reporter) AS reporter, t.created, t.resolved,
      (SELECT min(COALESCE(r.finished_at, r.created_at)) FROM runs r WHERE ${automatedRunSql('r', 't')}) AS automatedAt,
      (SELECT r.handler FROM runs r WHERE ${automatedRunSql('r', 't')} ORDER BY COALESCE(r.finished_at, r.created_at), r.id LIMIT 1) AS automatedBy,
      (SELECT min(a.finished_at) FROM runs r JOIN actions a ON ${deflectResolutionSql('a', 'r')}
        WHERE ${automatedRunSql('r', 't')} AND a.finished_at >= COALESCE(t.created, 0)) AS deflectResolvedAt
    FROM json_each(@refs) j JOIN tickets t ON t.key = json_extract(j.value, '$.key') AND t.tracker = json_extract(j.value, '$.tracker')`;
  const rows: ImpactTicketRow[] = [];
  for (let i = 0; i < refs.length; i += CHUNK) {
    const chunk = refs.slice(i, i + CHUNK).map((r) => ({ tracker: r.tracker, key: r.key }));
    rows.push(...(db.$client.prepare(sql).all({ refs: JSON.stringify(chunk) }) as ImpactTicketRow[]));
  }
  return rows;
}
