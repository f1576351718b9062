/**
 * The member keys of a report row, listed whole or paged.
 *
 * `GET /api/reports/top-tickets` lists at most {@link KEYS_PER_PAGE} keys per row, newest first (`created`
 * descending, then key, then row id: `compareMemberKeys` in src/db/report-queries.ts), with `keyCount` (all of
 * them) and `keysNext`: the path of the next page, `GET /api/reports/top-tickets/groups/<id>/keys?cursor=…`, or null
 * when the row's keys are all listed. Each page answers with its keys, their links, their variants and its own `next`.
 * A cursor is opaque to clients: base64url JSON holding the report's window, filters, the row's members (its label and
 * types) and the last key listed, so every page of a listing reads the same set of tickets even when the report was
 * asked for `since=90d` (a window that moves). It grants nothing: a caller may read any row's keys anyway.
 *
 * `deflect report --format json|csv` (and `buildTopTicketsReport` by default) lists every key of every row instead,
 * sorted by key as it always did ({@link listAllKeys}).
 */
import { z } from 'zod';
import type { KeyPosition, MemberKey, MemberSource, ReportScope } from '../db/report-queries.js';
import { TRACKER_NAMES, type TrackerName } from '../trackers/tracker.js';
import type { ReportVariant, TicketLink } from './report-types.js';
import { ticketUrl } from './tracker-filter.js';
import { compareIssueKeys, sortByIssueKey } from './report-window.js';

/** Keys a row lists in the API's answer, and the default (and at most 10 times that: the largest) page of the keys route. */
export const KEYS_PER_PAGE = 1000;
export const MAX_KEYS_PAGE = 10_000;

/** How a report lists each row's keys: `all` sorted by key, or the `first` page, newest first, with `keysNext`. */
export type KeysMode = 'all' | 'first';

/** One listed member: its key, its link and its variant (null when its wording repeats nothing). */
export interface ListedMember {
  key: string;
  link: TicketLink;
  variantId: string | null;
}

/** What a page continues from (decoded cursor). */
export interface KeysCursor {
  /** The row's id (`type:<hash>` or `label:<label>`). */
  group: string;
  scope: ReportScope;
  source: MemberSource;
  /** All the row's keys, as the report counted them. */
  keyCount: number;
  after: KeyPosition;
}

/** A cursor that is not one this deflect wrote (or was cut): a 400 for the API. */
export class KeysCursorError extends Error {
  override name = 'KeysCursorError';
}

const cursorShape = z.object({
  v: z.literal(1),
  g: z.string().max(300),
  w: z.tuple([z.number().int().nullable(), z.number().int()]),
  p: z.string().max(200).nullable(),
  tr: z.array(z.enum(TRACKER_NAMES)).max(TRACKER_NAMES.length).nullable(),
  l: z.string().max(300).nullable(),
  ty: z.array(z.string().max(100)).max(1000),
  n: z.number().int().min(0),
  a: z.tuple([z.number().nullable(), z.string().max(500), z.string().max(1000)]),
});

/** The opaque cursor of a position in a row's key list. */
export function encodeKeysCursor(cursor: KeysCursor): string {
  const { scope, source, after } = cursor;
  const value: z.infer<typeof cursorShape> = {
    v: 1,
    g: cursor.group,
    w: [scope.from, scope.to],
    p: scope.project,
    tr: (scope.trackers as TrackerName[] | null | undefined) ?? null,
    l: source.label,
    ty: [...source.typeIds],
    n: cursor.keyCount,
    a: [after.created, after.key, after.id],
  };
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** @throws KeysCursorError for anything {@link encodeKeysCursor} did not write. */
export function decodeKeysCursor(text: string): KeysCursor {
  let value: z.infer<typeof cursorShape>;
  try {
    value = cursorShape.parse(JSON.parse(Buffer.from(text, 'base64url').toString('utf8')));
  } catch {
    throw new KeysCursorError('invalid cursor: use the keysNext of a report row or the next of a keys page, unchanged');
  }
  return {
    group: value.g,
    scope: { from: value.w[0], to: value.w[1], project: value.p, trackers: value.tr },
    source: { label: value.l, typeIds: value.ty },
    keyCount: value.n,
    after: { created: value.a[0], key: value.a[1], id: value.a[2] },
  };
}

/** The path of the page after `cursor` (relative to the deflect's base URL). */
export function keysPagePath(group: string, cursor: string): string {
  return `/api/reports/top-tickets/groups/${encodeURIComponent(group)}/keys?cursor=${cursor}`;
}

/**
 * Members as a list shows them: each with its link and its variant (a variant no stored template names counts as
 * "wording not repeated", null), in the order given.
 */
export function listMembers(members: readonly MemberKey[], templates: ReadonlyMap<string, string>, jiraBaseUrl: string | null): ListedMember[] {
  return members.map((m) => ({
    key: m.key,
    link: { key: m.key, tracker: m.tracker as TrackerName, url: ticketUrl(m, jiraBaseUrl) },
    variantId: m.variantId !== null && templates.has(m.variantId) ? m.variantId : null,
  }));
}

/** A complete list sorted by key (`compareIssueKeys`), as `deflect report --format json` lists every row. */
export function listAllKeys(members: readonly ListedMember[]): ListedMember[] {
  return sortByIssueKey(members, (m) => m.key);
}

/** A row's `keys`, `links` and each variant's `keys` from its listed members (in their order). */
export function keyFields(members: readonly ListedMember[], variants: readonly ReportVariant[]): { keys: string[]; links: TicketLink[]; variants: ReportVariant[] } {
  const byVariant = new Map<string | null, string[]>();
  for (const m of members) {
    const keys = byVariant.get(m.variantId);
    if (keys) keys.push(m.key);
    else byVariant.set(m.variantId, [m.key]);
  }
  return {
    keys: members.map((m) => m.key),
    links: members.map((m) => m.link),
    variants: variants.map((v) => ({ ...v, keys: byVariant.get(v.id) ?? [] })),
  };
}

/**
 * The members a listed row or page shows, rebuilt from its `keys`, `links` and variants' `keys` (the n-th occurrence
 * of a key in a variant is the n-th occurrence in `keys`): what `deflect report --url` joins pages from.
 */
export function membersOf(listed: { keys: readonly string[]; links: readonly TicketLink[]; variants: ReadonlyArray<{ id: string | null; keys: readonly string[] }> }): ListedMember[] {
  const variantsOf = new Map<string, Array<string | null>>();
  for (const v of listed.variants) {
    for (const key of v.keys) {
      const ids = variantsOf.get(key);
      if (ids) ids.push(v.id);
      else variantsOf.set(key, [v.id]);
    }
  }
  return listed.keys.map((key, i) => ({
    key,
    link: listed.links[i] ?? { key, tracker: 'jira', url: null },
    variantId: variantsOf.get(key)?.shift() ?? null,
  }));
}

/** Up to 5 keys to look at first: newest first (unknown `created` as 0), then by key. */
export function exampleKeysOf(members: ReadonlyArray<{ key: string; created: number | null }>): string[] {
  return [...members]
    .sort((x, y) => (y.created ?? 0) - (x.created ?? 0) || compareIssueKeys(x.key, y.key))
    .slice(0, 5)
    .map((m) => m.key);
}
