/**
 * Builds the report scenario's database: `count` generated tickets (bench/lib/tickets.ts) created over the last
 * two years, in the project's schema (opened with `openDatabase`, so the migrations apply), rows written directly
 * with better-sqlite3 prepared statements in one transaction: `tickets`, `ticket_labels` (lower-cased, with the
 * ticket's `created`), for 60% of the tickets carrying a routed label a stub delivery plus a run (90% succeeded),
 * so the report's `automated` column has something to count, and a stored text grouping (`request_types`,
 * `request_variants`, `ticket_groups`) as `deflect group` would leave it: each ticket in the request type (with one
 * variant) of the summary template it was written from (running `groupTickets` over 1M tickets is not what is measured here). Prints one JSON line.
 *
 *   node --import tsx bench/scenarios/generate-tickets-db.ts /tmp/tickets.db 1000000
 *
 * Bulk-load settings (journal_mode=DELETE, synchronous=OFF for this connection) are for generating throwaway data
 * only; the database is switched back to WAL at the end, as deflect expects.
 */
import { createHash } from 'node:crypto';
import { statSync } from 'node:fs';
import { sealRowsAtUpgrade } from '../../src/db/audit-chain.js';
import { openDatabase } from '../../src/db/client.js';
import { GROUPING_VERSION } from '../../src/grouping/group-tickets.js';
import { prng, ROUTED_LABELS, ticketGenerator } from '../lib/tickets.js';

const [path, countArg] = process.argv.slice(2);
const count = Number(countArg ?? 1_000_000);
if (!path || !Number.isInteger(count) || count < 1) {
  console.error('usage: generate-tickets-db.ts <db path> <ticket count>');
  process.exit(2);
}

const started = performance.now();
const db = openDatabase(path);
const sqlite = db.$client;
sqlite.pragma('journal_mode = DELETE');
sqlite.pragma('synchronous = OFF');
sqlite.pragma('cache_size = -131072');

const DAY = 86_400_000;
const now = Date.now();
const generator = ticketGenerator(count, now - 730 * DAY, now - 60_000, 20261121);
const rand = prng(7);

const insertTicket = sqlite.prepare(`INSERT INTO tickets (id, key, project, issue_type, status, labels, summary, description, reporter,
  reporter_id, created, updated, resolved, origin, last_event_at, recorded_at)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'import', NULL, ?)`);
const insertLabel = sqlite.prepare('INSERT INTO ticket_labels (ticket_id, label, created) VALUES (?, ?, ?)');
const insertDelivery = sqlite.prepare(`INSERT INTO deliveries (delivery_key, webhook_identifier, source, event, issue_key, status, reason,
  headers, body, event_timestamp, received_at, routed_at) VALUES (?, ?, 'jira', 'jira:issue_created', ?, 'routed', 'bench', '{}', '{}', ?, ?, ?)`);
const insertRun = sqlite.prepare(`INSERT INTO runs (delivery_id, ticket_key, handler, reason, status, dry_run, idempotency_key, attempts,
  max_attempts, run_after, started_at, finished_at, duration_ms, summary, created_at)
  VALUES (?, ?, 'grant-repo-access', 'bench', ?, 0, ?, 1, 5, ?, ?, ?, ?, 'bench', ?)`);

const insertAssignment = sqlite.prepare(
  'INSERT INTO ticket_groups (ticket_id, type_id, variant_id, algorithm, reason, computed_at, created) VALUES (?, ?, ?, ?, ?, ?, ?)',
);
const insertType = sqlite.prepare('INSERT INTO request_types (id, algorithm, name, key_words, size, computed_at) VALUES (?, ?, ?, ?, ?, ?)');
const insertVariant = sqlite.prepare('INSERT INTO request_variants (id, type_id, algorithm, template, size, computed_at) VALUES (?, ?, ?, ?, ?, ?)');
const groupedAt = now + 1;
const groups = new Map<string, { id: string; size: number }>();

let labels = 0;
let runs = 0;
/** Progress on stderr (stdout carries only the result line): every {@link PROGRESS_EVERY} tickets. */
const PROGRESS_EVERY = 100_000;
sqlite.transaction(() => {
  for (let i = 0; i < count; i++) {
    if (i > 0 && i % PROGRESS_EVERY === 0) process.stderr.write(`generated ${i} of ${count} tickets, ${((performance.now() - started) / 1000).toFixed(0)} s\n`);
    const t = generator.next();
    insertTicket.run(t.id, t.key, t.project, t.issueType, t.status, JSON.stringify(t.labels), t.summary, t.description, t.reporter, t.reporterId, t.created, t.updated, t.resolved, now);
    for (const label of t.labels) {
      insertLabel.run(t.id, label, t.created);
      labels++;
    }
    if (t.labels.some((l) => ROUTED_LABELS.has(l)) && rand() < 0.6) {
      const deliveryKey = `bench.example:${t.id}`;
      const at = t.created + 1000;
      const delivery = insertDelivery.run(deliveryKey, t.id, t.key, t.created, at, at + 5);
      const status = rand() < 0.9 ? 'succeeded' : rand() < 0.5 ? 'failed' : 'skipped';
      insertRun.run(delivery.lastInsertRowid, t.key, status, `${t.key}:grant-repo-access:${deliveryKey}`, at, at + 10, at + 900, 890, at + 5);
      runs++;
    }
    let group = groups.get(t.template);
    if (!group) {
      group = { id: `type:${createHash('sha1').update(GROUPING_VERSION + t.template).digest('hex').slice(0, 12)}`, size: 0 };
      groups.set(t.template, group);
    }
    group.size++;
    insertAssignment.run(t.id, group.id, group.id.replace('type:', 'variant:'), GROUPING_VERSION, 'bench: generated from this template', groupedAt, t.created);
  }
  for (const [template, group] of groups) {
    const display = template.replace(/\{\w+\}/g, '<*>');
    insertType.run(group.id, GROUPING_VERSION, display.replace(/<\*>/g, '…'), JSON.stringify(display.toLowerCase().split(' ')), group.size, groupedAt);
    insertVariant.run(group.id.replace('type:', 'variant:'), group.id, GROUPING_VERSION, display, group.size, groupedAt);
  }
})();
// The runs were written directly: seal them now (the genesis pass of decision 011), so the first timed `deflect`
// open of this file does not do it.
process.stderr.write(`generated ${count} tickets; sealing the runs into the audit chain\n`);
sealRowsAtUpgrade(db);
sqlite.pragma('journal_mode = WAL');
db.$client.close();
const seconds = (performance.now() - started) / 1000;
console.log(JSON.stringify({ tickets: count, labels, runs, textGroups: groups.size, seconds, bytes: statSync(path).size }));
