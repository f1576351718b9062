import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { commandDescription } from '../command-manifest.js';
import { cliConfig, openWriteDatabase } from '../cli-database.js';
import { TRACKER_NAMES, type TrackerName } from '../../trackers/tracker.js';
import { deliveryHeaders, refreshedBody } from '../../webhooks/sign-delivery.js';
import { DeliveryNotFoundError, replayStoredDelivery } from '../../webhooks/replay-delivery.js';

/** The JSON files named by `target`: the file itself, or every `*.json` in the folder, sorted by name. */
export function payloadFiles(target: string): string[] {
  const stat = statSync(target, { throwIfNoEntry: false });
  if (!stat) throw new Error(`${target}: no such file or folder`);
  if (stat.isFile()) return [target];
  return readdirSync(target)
    .filter((name) => name.endsWith('.json'))
    .sort()
    .map((name) => join(target, name));
}

/**
 * The body `deflect replay <file>` sends for Jira (see {@link refreshedBody}: `timestamp` set to `now` unless
 * `refreshTimestamp` is false). Kept for callers of the Jira-only form.
 */
export function payloadBody(bytes: Buffer, refreshTimestamp: boolean, now = Date.now()): Buffer {
  return refreshedBody('jira', bytes, refreshTimestamp, now);
}

/**
 * `deflect replay <file|dir> [--tracker jira|github|linear|trello]`: POSTs stored payloads to a running instance at
 * `/webhooks/<tracker>`, signed the way that tracker signs (`sign-delivery.ts`) with the first configured secret
 * (Jira: DEFLECT_WEBHOOK_SECRET, else the first DEFLECT_WEBHOOK_TOKEN; DEFLECT_GITHUB_WEBHOOK_SECRET;
 * DEFLECT_LINEAR_WEBHOOK_SECRET; TRELLO_WEBHOOK_SECRET with DEFLECT_PUBLIC_URL's callback URL) — the way to test
 * handlers with real payloads. Each payload's event time (Jira `timestamp`, Linear `webhookTimestamp`, Trello
 * `action.date`, with a fresh `action.id`) is refreshed to now unless `--no-refresh-timestamp`.
 * `deflect replay --delivery <id>`: stores a replay of delivery `<id>` directly in DEFLECT_DB (see
 * `replayStoredDelivery`); the running deflect routes it like any pending delivery, and its runs act again with new
 * idempotency keys.
 */
export function registerReplayCommand(program: Command): void {
  program
    .command('replay')
    .argument('[path]', 'a JSON payload file, or a folder of them')
    .description(commandDescription('replay'))
    .option('--url <url>', 'base URL of the running deflect, for payload files (default http://127.0.0.1:$PORT)')
    .option('--tracker <name>', 'the tracker the payloads come from: jira, github, linear or trello', 'jira')
    .option('--event <name>', 'GitHub: the X-GitHub-Event (default: issue_comment when the body has a comment, else issues)')
    .option('--fresh-id', 'send a new delivery id with each payload (X-Atlassian-Webhook-Identifier, X-GitHub-Delivery, Linear-Delivery)')
    .option('--no-refresh-timestamp', "send each payload's timestamp as it is in the file (an old one is refused: DEFLECT_MAX_EVENT_AGE)")
    .option('--delivery <id>', 're-run a stored delivery (id from deflect audit / the deliveries table): stored in DEFLECT_DB as a new delivery marked as its replay')
    .action(async (path: string | undefined, options: { url?: string; tracker: string; event?: string; freshId?: boolean; refreshTimestamp: boolean; delivery?: string }) => {
      if (!(TRACKER_NAMES as readonly string[]).includes(options.tracker)) {
        throw new Error(`unknown --tracker "${options.tracker}": use one of ${TRACKER_NAMES.join(', ')}`);
      }
      const tracker = options.tracker as TrackerName;
      if ((path === undefined) === (options.delivery === undefined)) throw new Error('give either a payload path or --delivery <id>');
      const config = cliConfig();
      if (options.delivery !== undefined) {
        const id = Number(options.delivery);
        if (!Number.isInteger(id) || id < 1) throw new Error(`invalid --delivery "${options.delivery}": use a delivery id`);
        const db = await openWriteDatabase(config);
        try {
          const replay = await replayStoredDelivery(db, id);
          console.log(`delivery #${id} → replay stored as delivery #${replay.id}; a running deflect routes it within a second`);
        } catch (error) {
          if (error instanceof DeliveryNotFoundError) throw new Error(`no delivery #${id} in ${config.dbPath}`);
          throw error;
        } finally {
          await db.close();
        }
        return;
      }
      const base = (options.url ?? `http://127.0.0.1:${config.port}`).replace(/\/+$/, '');
      const files = payloadFiles(path!);
      let failures = 0;
      for (const [i, file] of files.entries()) {
        const body = refreshedBody(tracker, readFileSync(file), options.refreshTimestamp);
        const headers = deliveryHeaders(tracker, body, config, { freshId: options.freshId, event: options.event });
        const line = await post(`${base}/webhooks/${tracker}`, headers, body);
        if (!line.ok) failures++;
        console.log(`[${i + 1}/${files.length}] ${file} → ${line.text}`);
      }
      if (failures > 0) throw new Error(`${failures} of ${files.length} payloads were not accepted`);
    });
}

async function post(url: string, headers: Record<string, string>, body: Buffer): Promise<{ ok: boolean; text: string }> {
  try {
    const response = await fetch(url, { method: 'POST', headers, body: new Uint8Array(body) });
    return { ok: response.ok, text: `${response.status} ${await response.text()}` };
  } catch (error) {
    return { ok: false, text: `error: ${(error as Error).message} (is deflect running at ${new URL(url).origin}?)` };
  }
}
