/**
 * `deflect rules test <payload.json | --delivery ID | --ticket KEY> [--tracker jira|github|linear|trello] [--event NAME]
 * [--rules FILE] [--format table|json] [--no-lookup]`: the rule tester (issue 11; like StackStorm's st2-rule-tester).
 * Prints EVERY rule of the rules file with matched / not matched and why, by the same per-rule checks routing uses
 * (`explainRules` in `src/rules/classify.ts`), without queuing, running or storing anything: the database is only read
 * (`--delivery`, `--ticket`; opened read-only). Group membership (rule `groups`) is looked up read-only with the configured tracker
 * credentials unless `--no-lookup`.
 *
 * JSON output (an interface other tools use): `{ "matches": [ { "rule", "handler", "matched", "reason" } ] }`; the table
 * output starts with a line naming the source (payload, delivery, or ticket snapshot tested as a `created` event).
 * Errors (unreadable file, body that is not an event of the tracker, unknown delivery or ticket) exit 1 with one line.
 */
import { readFileSync, statSync } from 'node:fs';
import type { Command } from 'commander';
import { commandDescription } from '../command-manifest.js';
import { handlers } from '../../../handlers/index.js';
import { cliConfig, openReadDatabase } from '../cli-database.js';
import { classify, explainRules, type RuleExplanation } from '../../rules/classify.js';
import { loadRulesFile } from '../../rules/rules-file.js';
import { createGroupDirectory } from '../../scope/group-directory.js';
import { MembershipCache } from '../../scope/membership-cache.js';
import type { Ticket } from '../../ticket.js';
import { trackerNamed } from '../../trackers/index.js';
import { TRACKER_NAMES, type TrackerEvent, type TrackerName } from '../../trackers/tracker.js';
import { parseFormat, renderTable } from '../output.js';
import type { StoreLocation } from '../../db/open-store.js';

/** Largest payload file read, bytes (the receiver's default body limit). */
const MAX_PAYLOAD_BYTES = 5 * 1024 * 1024;

interface RulesTestOptions {
  delivery?: string;
  ticket?: string;
  tracker: string;
  event?: string;
  rules?: string;
  format: string;
  lookup: boolean;
}

export function registerRulesCommand(program: Command): void {
  const rules = program.command('rules').description(commandDescription('rules'));
  rules
    .command('test')
    .argument('[payload]', 'a webhook payload file (JSON) of --tracker')
    .description('show which rules a payload, stored delivery or stored ticket would match, and why (runs nothing, stores nothing)')
    .option('--delivery <id>', 'test the body of a stored delivery (id from deflect audit)')
    .option('--ticket <key>', 'test the stored snapshot of a ticket, as if it had just been created')
    .option('--tracker <name>', `the tracker the payload comes from: ${TRACKER_NAMES.join(', ')}`, 'jira')
    .option('--event <name>', 'GitHub: the X-GitHub-Event of the payload (default: issue_comment when the body has a comment, else issues)')
    .option('--rules <file>', 'rules file (default: DEFLECT_RULES, else ./rules.yaml)')
    .option('--format <format>', 'table or json', 'table')
    .option('--no-lookup', 'do not look up group membership (rules with groups then say "not looked up")')
    .action(async (payload: string | undefined, options: RulesTestOptions) => {
      const format = parseFormat(options.format, ['table', 'json']);
      const given = [payload !== undefined, options.delivery !== undefined, options.ticket !== undefined].filter(Boolean).length;
      if (given !== 1) throw new Error('give exactly one of: a payload file, --delivery <id>, --ticket <key>');
      const config = cliConfig();
      const rulesPath = options.rules ?? config.rulesPath;
      if (!rulesPath) throw new Error('no rules file: pass --rules <file> or set DEFLECT_RULES');
      const ruleList = loadRulesFile(rulesPath, handlers.map((h) => h.name));
      const { event, source } = await readEvent(payload, options, config);

      let membershipOf;
      if (options.lookup) {
        const cache = new MembershipCache({ directory: createGroupDirectory(config), ttlMs: 60_000 });
        await cache.prefetch(classify(event, ruleList).unresolved);
        membershipOf = cache.membershipOf;
      }
      const matches = explainRules(event, ruleList, { membershipOf });
      if (format === 'json') return void console.log(JSON.stringify({ matches }, null, 2));
      console.log(source);
      console.log(renderTable(['#', 'rule', 'handler', 'matched', 'reason'], matches.map((m: RuleExplanation, i) => [i + 1, m.rule, m.handler, m.matched ? 'yes' : 'no', m.reason])));
    });
}

/** The event to test and a one-line description of where it came from. @throws Error with a one-line message. */
async function readEvent(payload: string | undefined, options: RulesTestOptions, location: StoreLocation): Promise<{ event: TrackerEvent; source: string }> {
  if (payload !== undefined) {
    if (!(TRACKER_NAMES as readonly string[]).includes(options.tracker)) throw new Error(`unknown --tracker "${options.tracker}": use one of ${TRACKER_NAMES.join(', ')}`);
    const size = statSync(payload, { throwIfNoEntry: false })?.size;
    if (size === undefined) throw new Error(`${payload}: no such file`);
    if (size > MAX_PAYLOAD_BYTES) throw new Error(`${payload}: ${size} bytes, more than the ${MAX_PAYLOAD_BYTES} a webhook body may have`);
    const body = parseJson(readFileSync(payload, 'utf8'), payload);
    const headers: Record<string, string> = {};
    if (options.tracker === 'github') {
      headers['x-github-event'] = options.event ?? (body && typeof body === 'object' && 'comment' in body ? 'issue_comment' : 'issues');
    }
    return { event: trackerNamed(options.tracker).parseEvent(body, headers), source: `payload ${payload} (${options.tracker})` };
  }
  const db = await openReadDatabase(location);
  const dbPath = location.databaseUrl ? location.databaseUrl.display : location.dbPath;
  try {
    if (options.delivery !== undefined) {
      const id = Number(options.delivery);
      if (!Number.isInteger(id) || id < 1) throw new Error(`invalid --delivery "${options.delivery}": use a delivery id`);
      const row = await db.findDelivery(id);
      if (!row) throw new Error(`no delivery #${id} in ${dbPath}`);
      const headers = parseJson(row.headers || '{}', `delivery #${id} headers`) as Record<string, string>;
      return { event: trackerNamed(row.source).parseEvent(parseJson(row.body, `delivery #${id}`), headers), source: `delivery #${id} (${row.source})` };
    }
    const row = await db.findTicketByKey(options.ticket!);
    if (!row) throw new Error(`no ticket ${options.ticket} in ${dbPath}`);
    const ticket: Ticket = {
      tracker: row.tracker as TrackerName,
      id: row.issueId,
      key: row.key,
      project: row.project,
      issueType: row.issueType,
      status: row.status,
      labels: row.labels,
      summary: row.summary,
      description: row.description,
      reporter: row.reporter,
      reporterId: row.reporterId,
      created: row.created,
      updated: row.updated,
      resolved: row.resolved,
      siteUrl: row.site ? `https://${row.site}` : null,
    };
    const event: TrackerEvent = {
      event: 'ticket-snapshot',
      kind: 'created',
      eventType: null,
      timestamp: null,
      actor: null,
      ticket,
      labelsAdded: [],
      labelsRemoved: [],
      siteHost: null,
      selfHosts: [],
    };
    return { event, source: `ticket ${row.key} (stored snapshot, tested as a "created" event)` };
  } finally {
    await db.close();
  }
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new Error(`${what}: not JSON: ${(error as Error).message}`);
  }
}
