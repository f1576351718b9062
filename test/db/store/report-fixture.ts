/**
 * One small ticket population for the report conformance tests, written with raw rows (`seed-report-rows.ts`) so it
 * is the same on both backends: ties on `created` whose keys sort differently bytewise than in a language collation
 * (`B-1` < `PLAT-1` < `a-9`; `Z-1` < `É-1` < `\uFFFD-1` < `𝐀-1`), one key on two sites, a ticket without `created`,
 * tickets before 1970 (integer-division edge of the periods), three trackers with the same display key on two, and
 * runs that do and do not count as automated (dry run, shadow, not applied, a snapshot naming another tracker, no
 * snapshot = Jira).
 */
import { actionRow, deliveryRow, labelRows, runRow, ticketRow, type Row, type SeededStore } from './seed-report-rows.js';

export const DAY = 86_400_000;
/** Wednesday 2026-11-04T00:00Z (its ISO week starts Monday 2026-11-02). */
export const B = Date.UTC(2026, 10, 4);

const jira = (key: string, labels: string[], created: number | null, fields: Row = {}) => ticketRow(key, { labels: JSON.stringify(labels), created, ...fields });

export const TICKETS: Row[] = [
  jira('PLAT-1', ['Access', 'VPN', 'access'], B, { resolved: B + 3_600_000 }),
  jira('PLAT-2', ['access'], B, { resolved: B + DAY }),
  jira('B-1', ['access'], B),
  jira('B-1', ['access'], B, { site: 'other.atlassian.net' }),
  jira('a-9', ['access'], B),
  jira('É-1', ['access'], B - DAY),
  jira('Z-1', ['access'], B - DAY),
  jira('𝐀-1', [], B - DAY),
  jira('\uFFFD-1', [], B - DAY),
  jira('N-1', ['access'], null),
  jira('N-2', [], null),
  ticketRow('acme/api#12', { id: 'github:github.com:12', tracker: 'github', site: 'github.com', project: 'acme/api', labels: '["access"]', created: B + DAY }),
  ticketRow('ENG-12', { id: 'linear:linear.app/acme:u1', tracker: 'linear', site: 'linear.app/acme', project: 'ENG', labels: '["vpn"]', created: B + 2 * DAY, resolved: B + 3 * DAY }),
  jira('ENG-12', ['vpn'], B + 2 * DAY, { resolved: B + 4 * DAY }),
  jira('OLD-1', ['vpn'], -5 * DAY + 1, { resolved: -4 * DAY }),
  jira('OLD-2', ['vpn'], -1),
];

/** Ticket row id of the Jira ticket `key` on the default site. */
export const jiraId = (key: string) => `acme.atlassian.net:${key}`;

export const TYPES: Row[] = [
  { id: 'type:bbb', algorithm: 'text-v2', name: 'Reset VPN', key_words: '["vpn"]', size: 2, labels: '[]', dominant_label: 'vpn', example_keys: '[]', computed_at: 5_000 },
  { id: 'type:aaa', algorithm: 'text-v2', name: 'Add user', key_words: '["add"]', size: 4, labels: '[]', dominant_label: null, example_keys: '[]', computed_at: 5_000 },
];
export const VARIANTS: Row[] = [
  { id: 'variant:v1', type_id: 'type:aaa', algorithm: 'text-v2', template: 'Add <*>', size: 2, computed_at: 5_000 },
  { id: 'variant:v2', type_id: 'type:aaa', algorithm: 'text-v2', template: 'Please add <*>', size: 1, computed_at: 5_000 },
  { id: 'variant:v3', type_id: 'type:bbb', algorithm: 'text-v2', template: 'Reset <*>', size: 1, computed_at: 5_000 },
];
/** ticket id → [type, variant]. */
export const GROUPS: Array<[string, string | null, string | null]> = [
  [jiraId('PLAT-2'), 'type:aaa', 'variant:v1'],
  [jiraId('a-9'), 'type:aaa', 'variant:v2'],
  [jiraId('𝐀-1'), 'type:aaa', 'variant:v1'],
  [jiraId('\uFFFD-1'), 'type:aaa', null],
  [jiraId('PLAT-1'), 'type:bbb', 'variant:v3'],
  [jiraId('ENG-12'), 'type:bbb', null],
  [jiraId('Z-1'), null, null],
  [jiraId('N-2'), 'type:aaa', 'variant:v2'],
];

export const RUNS: Row[] = [
  runRow(1, 'PLAT-1', { ticket_snapshot: '{"tracker":"jira","summary":"x"}' }),
  runRow(2, 'PLAT-2', { dry_run: true }),
  runRow(3, 'B-1', { applied: false }),
  runRow(4, 'acme/api#12', { ticket_snapshot: '{"tracker":"github"}' }),
  runRow(5, 'ENG-12', { ticket_snapshot: '{"tracker":"linear"}' }),
  runRow(6, 'a-9', { shadow: true }),
  runRow(7, 'Z-1'),
  runRow(8, 'N-1', { status: 'failed' }),
];
export const ACTIONS: Row[] = [
  actionRow(1, 1, 'PLAT-1', { finished_at: B + 7_200_000 }),
  actionRow(2, 5, 'ENG-12', { finished_at: B + 2.5 * DAY }),
  actionRow(3, 7, 'Z-1', { kind: 'comment' }),
];

/** Tickets automated by the fixture's runs (ticket ids). */
export const AUTOMATED = new Set([jiraId('PLAT-1'), 'github:github.com:12', 'linear:linear.app/acme:u1', jiraId('Z-1')]);

/** Writes the fixture; with `groups` false, leaves out the grouping (types, variants, assignments). */
export async function seedReportFixture(seeded: SeededStore, groups = true): Promise<void> {
  await seeded.insert('tickets', TICKETS);
  await seeded.insert('ticket_labels', TICKETS.flatMap(labelRows));
  if (groups) {
    await seeded.insert('request_types', TYPES);
    await seeded.insert('request_variants', VARIANTS);
    const created = new Map(TICKETS.map((t) => [t.id, t.created]));
    await seeded.insert(
      'ticket_groups',
      GROUPS.map(([ticketId, typeId, variantId]) => ({ ticket_id: ticketId, type_id: typeId, variant_id: variantId, algorithm: 'text-v2', reason: 'r', deciding_words: '[]', nearest: null, created: created.get(ticketId) ?? null, computed_at: 5_000 })),
    );
  }
  await seeded.insert('deliveries', RUNS.map((r) => deliveryRow(r.id as number)));
  await seeded.insert('runs', RUNS);
  await seeded.insert('actions', ACTIONS);
}
