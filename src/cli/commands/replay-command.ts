import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { loadProcessConfig } from '../../config.js';
import { openDatabase } from '../../db/client.js';
import { SIGNATURE_HEADER, signBody, TOKEN_HEADER } from '../../trackers/jira/verify-delivery.js';
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
 * The body `deflect replay <file>` sends: the file's bytes, or with `refreshTimestamp` (the default) the same JSON with
 * its top-level `timestamp` set to `now`, so a stored example payload is not refused as older than
 * DEFLECT_MAX_EVENT_AGE and is not a duplicate of an earlier replay of the same file. A body with no numeric
 * `timestamp` (an Automation body) or that is not a JSON object is sent unchanged.
 */
export function payloadBody(bytes: Buffer, refreshTimestamp: boolean, now = Date.now()): Buffer {
  if (!refreshTimestamp) return bytes;
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch {
    return bytes;
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value) || typeof (value as { timestamp?: unknown }).timestamp !== 'number') return bytes;
  return Buffer.from(JSON.stringify({ ...(value as object), timestamp: now }), 'utf8');
}

/**
 * `deflect replay <file|dir>`: POSTs stored payloads to a running instance, signed with the first
 * DEFLECT_WEBHOOK_SECRET (or sent with the first DEFLECT_WEBHOOK_TOKEN) — the way to test handlers with real payloads.
 * Each payload's `timestamp` is refreshed to now unless `--no-refresh-timestamp` (see {@link payloadBody}).
 * `deflect replay --delivery <id>`: stores a replay of delivery `<id>` directly in DEFLECT_DB (see
 * `replayStoredDelivery`); the running deflect routes it like any pending delivery, and its runs act again with new
 * idempotency keys.
 */
export function registerReplayCommand(program: Command): void {
  program
    .command('replay')
    .argument('[path]', 'a JSON payload file, or a folder of them')
    .description('post stored webhook payloads to a running deflect (signed when a secret is configured), or with --delivery replay a stored delivery')
    .option('--url <url>', 'base URL of the running deflect, for payload files (default http://127.0.0.1:$PORT)')
    .option('--fresh-id', 'send a new X-Atlassian-Webhook-Identifier with each payload')
    .option('--no-refresh-timestamp', "send each payload's timestamp as it is in the file (an old one is refused: DEFLECT_MAX_EVENT_AGE)")
    .option('--delivery <id>', 're-run a stored delivery (id from deflect audit / the deliveries table): stored in DEFLECT_DB as a new delivery marked as its replay')
    .action(async (path: string | undefined, options: { url?: string; freshId?: boolean; refreshTimestamp: boolean; delivery?: string }) => {
      if ((path === undefined) === (options.delivery === undefined)) throw new Error('give either a payload path or --delivery <id>');
      const config = loadProcessConfig();
      if (options.delivery !== undefined) {
        const id = Number(options.delivery);
        if (!Number.isInteger(id) || id < 1) throw new Error(`invalid --delivery "${options.delivery}": use a delivery id`);
        const db = openDatabase(config.dbPath);
        try {
          const replay = replayStoredDelivery(db, id);
          console.log(`delivery #${id} → replay stored as delivery #${replay.id}; a running deflect routes it within a second`);
        } catch (error) {
          if (error instanceof DeliveryNotFoundError) throw new Error(`no delivery #${id} in ${config.dbPath}`);
          throw error;
        } finally {
          db.$client.close();
        }
        return;
      }
      const base = (options.url ?? `http://127.0.0.1:${config.port}`).replace(/\/+$/, '');
      const files = payloadFiles(path!);
      let failures = 0;
      for (const [i, file] of files.entries()) {
        const body = payloadBody(readFileSync(file), options.refreshTimestamp);
        const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'deflect-replay' };
        if (config.webhookSecrets[0]) headers[SIGNATURE_HEADER] = signBody(body, config.webhookSecrets[0]);
        else if (config.webhookTokens[0]) headers[TOKEN_HEADER] = config.webhookTokens[0];
        if (options.freshId) headers['x-atlassian-webhook-identifier'] = randomUUID();
        const line = await post(base, headers, body);
        if (!line.ok) failures++;
        console.log(`[${i + 1}/${files.length}] ${file} → ${line.text}`);
      }
      if (failures > 0) throw new Error(`${failures} of ${files.length} payloads were not accepted`);
    });
}

async function post(base: string, headers: Record<string, string>, body: Buffer): Promise<{ ok: boolean; text: string }> {
  try {
    const response = await fetch(`${base}/webhooks/jira`, { method: 'POST', headers, body: new Uint8Array(body) });
    return { ok: response.ok, text: `${response.status} ${await response.text()}` };
  } catch (error) {
    return { ok: false, text: `error: ${(error as Error).message} (is deflect running at ${base}?)` };
  }
}
