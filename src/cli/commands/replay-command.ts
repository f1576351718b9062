import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { loadProcessConfig, type Config } from '../../config.js';
import { openDatabase } from '../../db/client.js';
import { findDelivery } from '../../db/deliveries.js';
import { SIGNATURE_HEADER, signBody, TOKEN_HEADER } from '../../webhooks/authenticate.js';

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
 * The request that replays stored delivery `id`: its original body and kept headers, re-signed with the current
 * secret (or sent with the current token), a fresh `X-Atlassian-Webhook-Identifier` (`replay-<id>-<uuid>`, so it is a
 * new delivery, not a duplicate) and `X-Deflect-Replay-Of: <id>`, which the receiver stores as `deliveries.replay_of`
 * (the audit shows the run as a replay).
 * @throws Error when the delivery does not exist.
 */
export function replayRequest(config: Pick<Config, 'dbPath' | 'webhookSecrets' | 'webhookTokens'>, id: number): { headers: Record<string, string>; body: Buffer } {
  const db = openDatabase(config.dbPath, { readonly: true });
  const delivery = findDelivery(db, id);
  db.$client.close();
  if (!delivery) throw new Error(`no delivery #${id} in ${config.dbPath}`);
  const body = Buffer.from(delivery.body, 'utf8');
  const headers: Record<string, string> = { ...(JSON.parse(delivery.headers) as Record<string, string>) };
  delete headers[SIGNATURE_HEADER];
  headers['content-type'] ??= 'application/json';
  headers['x-atlassian-webhook-identifier'] = `replay-${id}-${randomUUID()}`;
  headers['x-deflect-replay-of'] = String(id);
  if (config.webhookSecrets[0]) headers[SIGNATURE_HEADER] = signBody(body, config.webhookSecrets[0]);
  else if (config.webhookTokens[0]) headers[TOKEN_HEADER] = config.webhookTokens[0];
  return { headers, body };
}

/**
 * `deflect replay <file|dir>`: POSTs stored payloads to a running instance, signed with the first
 * DEFLECT_WEBHOOK_SECRET (or sent with the first DEFLECT_WEBHOOK_TOKEN) — the way to test handlers with real payloads.
 * `deflect replay --delivery <id>`: re-sends a delivery stored in DEFLECT_DB with its original headers and body, as a
 * new delivery marked as a replay of `<id>` (see {@link replayRequest}); its runs act again, with new idempotency keys.
 */
export function registerReplayCommand(program: Command): void {
  program
    .command('replay')
    .argument('[path]', 'a JSON payload file, or a folder of them')
    .description('post stored webhook payloads (or, with --delivery, a stored delivery) to a running deflect, signed when a secret is configured')
    .option('--url <url>', 'base URL of the running deflect (default http://127.0.0.1:$PORT)')
    .option('--fresh-id', 'send a new X-Atlassian-Webhook-Identifier each time, so a payload already received is processed again')
    .option('--delivery <id>', 're-run a stored delivery (id from deflect audit / the deliveries table) with its original headers and body')
    .action(async (path: string | undefined, options: { url?: string; freshId?: boolean; delivery?: string }) => {
      if ((path === undefined) === (options.delivery === undefined)) throw new Error('give either a payload path or --delivery <id>');
      const config = loadProcessConfig();
      const base = (options.url ?? `http://127.0.0.1:${config.port}`).replace(/\/+$/, '');
      if (options.delivery !== undefined) {
        const id = Number(options.delivery);
        if (!Number.isInteger(id) || id < 1) throw new Error(`invalid --delivery "${options.delivery}": use a delivery id`);
        const { headers, body } = replayRequest(config, id);
        const line = await post(base, headers, body);
        console.log(`delivery #${id} → ${line.text}`);
        if (!line.ok) throw new Error(`the replay of delivery #${id} was not accepted`);
        return;
      }
      const files = payloadFiles(path!);
      let failures = 0;
      for (const [i, file] of files.entries()) {
        const body = readFileSync(file);
        const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'deflect-replay' };
        if (config.webhookSecrets[0]) headers['x-hub-signature'] = signBody(body, config.webhookSecrets[0]);
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
