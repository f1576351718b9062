import type { Command } from 'commander';
import { commandDescription } from '../command-manifest.js';
import { cliConfig, openReadDatabase, openWriteDatabase } from '../cli-database.js';
import { formatOption } from '../options.js';
import { type StoredTicketGroup } from '../../db/text-groups.js';
import { GROUPING_VERSION } from '../../grouping/group-tickets.js';
import { regroupTickets, type RegroupResult } from '../../reports/regroup.js';

/** `deflect group --format json` and the `grouped` field of `deflect import --format json`: the figures, not the grouping. */
export function groupedJson(result: RegroupResult) {
  return { tickets: result.tickets, types: result.types, variants: result.variants, grouped: result.grouped, algorithm: result.algorithm, ms: result.ms };
}

/** The one-line summary `deflect group` and `deflect import` print after grouping. */
export function groupedLine(result: RegroupResult): string {
  return (
    `grouped ${result.tickets} tickets by text (${result.algorithm}) in ${(result.ms / 1000).toFixed(1)} s: ` +
    `${result.types} request types (${result.variants} variants) holding ${result.grouped} tickets`
  );
}

/**
 * What `deflect explain` prints about a stored assignment, both levels: the request type and why (the deciding
 * words), the variant (wording) inside it, or for a ticket that repeats nothing the nearest type and why it stayed
 * alone; then the full reason, and a note when the grouping was made by another algorithm version.
 */
export function explainLines(stored: StoredTicketGroup): string[] {
  const lines: string[] = [];
  if (stored.algorithm !== GROUPING_VERSION) {
    lines.push(`request type: unknown — grouped by ${stored.algorithm}; this deflect uses ${GROUPING_VERSION}: run \`deflect group\``);
    lines.push(`why (${stored.algorithm}): ${stored.reason}`);
    return lines;
  }
  if (stored.type) {
    lines.push(`request type: "${stored.type.name}" (${stored.type.size} tickets, ${stored.type.id})`);
    lines.push(`  decided by: ${stored.decidingWords.length ? stored.decidingWords.join(', ') : '—'}`);
    lines.push(stored.variant ? `variant: "${stored.variant.template}" (${stored.variant.size} tickets, ${stored.variant.id})` : 'variant: none stored');
  } else {
    lines.push('request type: none (it repeats nothing)');
    lines.push(
      stored.nearest
        ? `  nearest type: "${stored.nearest.name}" (${stored.nearest.typeId}, similarity ${stored.nearest.similarity.toFixed(2)}): ${stored.nearest.why}`
        : '  nearest type: none',
    );
  }
  lines.push(`why (${stored.algorithm}): ${stored.reason}`);
  return lines;
}

/**
 * `deflect explain KEY --format json`: `{ "key", "summary", "labels", "grouped": boolean, "current": boolean (grouped
 * by this deflect's algorithm), "type": { "id", "name", "size" } | null, "decidingWords", "variant": { "id",
 * "template", "size" } | null, "nearest": { "typeId", "name", "similarity", "why" } | null, "algorithm", "reason",
 * "lines": [the text output's lines] }`.
 */
export function explainJson(ticket: { key: string; summary: string | null; labels: string[] }, stored: StoredTicketGroup | null) {
  return {
    key: ticket.key,
    summary: ticket.summary,
    labels: ticket.labels,
    grouped: stored !== null,
    current: stored?.algorithm === GROUPING_VERSION,
    type: stored?.type ? { id: stored.type.id, name: stored.type.name, size: stored.type.size } : null,
    decidingWords: stored?.decidingWords ?? [],
    variant: stored?.variant ? { id: stored.variant.id, template: stored.variant.template, size: stored.variant.size } : null,
    nearest: stored?.nearest ?? null,
    algorithm: stored?.algorithm ?? null,
    reason: stored?.reason ?? null,
    lines: stored ? explainLines(stored) : ['request type: not grouped yet — run `deflect group`'],
  };
}

/** `deflect group` (recompute the text grouping) and `deflect explain <KEY>` (why a ticket is in its request type). */
export function registerGroupCommand(program: Command): void {
  program
    .command('group')
    .description(`group every ticket by the text of its summary (${GROUPING_VERSION}) and store the result for the report`)
    .addOption(formatOption(['text', 'json']))
    .action(async (options: { format: 'text' | 'json' }) => {
      const config = cliConfig();
      const db = await openWriteDatabase(config);
      const before = await db.groupingMeta();
      const result = await regroupTickets(db);
      await db.close();
      const replaced = before.algorithm && before.algorithm !== result.algorithm ? before.algorithm : null;
      if (options.format === 'json') return void console.log(JSON.stringify({ ...groupedJson(result), replaced }, null, 2));
      if (replaced) console.log(`replaced a grouping made by ${replaced}`);
      console.log(groupedLine(result));
    });

  program
    .command('explain')
    .argument('<key>', 'an issue key, e.g. PLAT-123')
    .description(commandDescription('explain'))
    .addOption(formatOption(['text', 'json']))
    .action(async (key: string, options: { format: 'text' | 'json' }) => {
      const config = cliConfig();
      const db = await openReadDatabase(config);
      try {
        const ticket = await db.findTicketByKey(key);
        if (!ticket) throw new Error(`no ticket ${key} in ${config.dbPath} (import it or wait for its webhook)`);
        if (options.format === 'json') return void console.log(JSON.stringify(explainJson(ticket, await db.findTicketGroup(key) ?? null), null, 2));
        console.log(`${ticket.key} "${ticket.summary ?? ''}"`);
        console.log(`labels: ${ticket.labels.length ? ticket.labels.join(', ') : 'none'}`);
        if (ticket.labels.length) console.log(`label groups: ${ticket.labels.map((l) => l.toLowerCase()).join(', ')} (a labelled ticket always counts in its label groups)`);
        const stored = await db.findTicketGroup(key);
        if (!stored) {
          console.log('request type: not grouped yet — run `deflect group`');
          return;
        }
        for (const line of explainLines(stored)) console.log(line);
      } finally {
        await db.close();
      }
    });
}
