/**
 * Writes the Slack request modal (Block Kit JSON) of every shipped handler to `docs/slack-modals/<handler>.json`,
 * as the front door generates it (`requestModal(formFieldsOf(handler.input))`, rule name = handler name).
 * Run: `node --import tsx scripts/slack-modals.ts`. Paste a file into https://app.slack.com/block-kit-builder to see it.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { handlers } from '../handlers/index.js';
import { formFieldsOf } from '../src/automation/ticket-input.js';
import { requestModal } from '../src/slack/slack-modal.js';

const out = resolve(import.meta.dirname, '../docs/slack-modals');
mkdirSync(out, { recursive: true });
for (const handler of handlers) {
  const view = requestModal({ rule: handler.name, handler: handler.name, description: handler.description }, formFieldsOf(handler.input));
  writeFileSync(join(out, `${handler.name}.json`), `${JSON.stringify(view, null, 2)}\n`);
  console.log(`${handler.name}: ${view.blocks.length} blocks → docs/slack-modals/${handler.name}.json`);
}
