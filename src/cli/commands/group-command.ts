import type { Command } from 'commander';
import { loadProcessConfig } from '../../config.js';
import { openDatabase } from '../../db/client.js';
import { findTicketGroup, groupingMeta } from '../../db/text-groups.js';
import { findTicketByKey } from '../../db/tickets.js';
import { GROUPING_VERSION } from '../../grouping/group-tickets.js';
import { regroupTickets } from '../../reports/regroup.js';

/** `deflect group` (recompute the text grouping) and `deflect explain <KEY>` (why a ticket is in its group). */
export function registerGroupCommand(program: Command): void {
  program
    .command('group')
    .description(`group every ticket by the text of its summary (${GROUPING_VERSION}) and store the result for the report`)
    .action(() => {
      const config = loadProcessConfig();
      const db = openDatabase(config.dbPath);
      const before = groupingMeta(db);
      const result = regroupTickets(db);
      db.$client.close();
      if (before.algorithm && before.algorithm !== result.algorithm) console.log(`replaced a grouping made by ${before.algorithm}`);
      console.log(
        `grouped ${result.tickets} tickets by text (${result.algorithm}) in ${(result.ms / 1000).toFixed(1)} s: ${result.groups} repeated groups holding ${result.grouped} tickets`,
      );
    });

  program
    .command('explain')
    .argument('<key>', 'an issue key, e.g. PLAT-123')
    .description('say which group a ticket fell into, and why')
    .action((key: string) => {
      const config = loadProcessConfig();
      const db = openDatabase(config.dbPath);
      try {
        const ticket = findTicketByKey(db, key);
        if (!ticket) throw new Error(`no ticket ${key} in ${config.dbPath} (import it or wait for its webhook)`);
        console.log(`${ticket.key} "${ticket.summary ?? ''}"`);
        console.log(`labels: ${ticket.labels.length ? ticket.labels.join(', ') : 'none'}`);
        if (ticket.labels.length) console.log(`label groups: ${ticket.labels.map((l) => l.toLowerCase()).join(', ')} (a labelled ticket always counts in its label groups)`);
        const stored = findTicketGroup(db, key);
        if (!stored) {
          console.log('text group: not grouped yet — run `deflect group`');
          return;
        }
        const where = stored.groupId ? `"${stored.template}" (${stored.size} tickets, ${stored.groupId})` : 'none (it repeats nothing)';
        console.log(`text group: ${where}`);
        console.log(`why (${stored.algorithm}): ${stored.reason}`);
        if (stored.algorithm !== GROUPING_VERSION) console.log(`note: grouped by ${stored.algorithm}; this deflect uses ${GROUPING_VERSION} — run \`deflect group\``);
      } finally {
        db.$client.close();
      }
    });
}
