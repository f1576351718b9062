import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { loadProcessConfig } from '../../config.js';
import { signBody, TOKEN_HEADER } from '../../webhooks/authenticate.js';

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
 * `deflect replay <file|dir>`: POSTs stored payloads to a running instance, signed with the first
 * DEFLECT_WEBHOOK_SECRET (or sent with the first DEFLECT_WEBHOOK_TOKEN) — the way to test handlers with real payloads.
 */
export function registerReplayCommand(program: Command): void {
  program
    .command('replay')
    .argument('<path>', 'a JSON payload file, or a folder of them')
    .description('post stored webhook payloads to a running deflect, signed when a secret is configured')
    .option('--url <url>', 'base URL of the running deflect (default http://127.0.0.1:$PORT)')
    .option('--fresh-id', 'send a new X-Atlassian-Webhook-Identifier each time, so a payload already received is processed again')
    .action(async (path: string, options: { url?: string; freshId?: boolean }) => {
      const config = loadProcessConfig();
      const base = (options.url ?? `http://127.0.0.1:${config.port}`).replace(/\/+$/, '');
      const files = payloadFiles(path);
      let failures = 0;
      for (const [i, file] of files.entries()) {
        const body = readFileSync(file);
        const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'deflect-replay' };
        if (config.webhookSecrets[0]) headers['x-hub-signature'] = signBody(body, config.webhookSecrets[0]);
        else if (config.webhookTokens[0]) headers[TOKEN_HEADER] = config.webhookTokens[0];
        if (options.freshId) headers['x-atlassian-webhook-identifier'] = randomUUID();
        let line: string;
        try {
          const response = await fetch(`${base}/webhooks/jira`, { method: 'POST', headers, body });
          const text = await response.text();
          if (!response.ok) failures++;
          line = `${response.status} ${text}`;
        } catch (error) {
          failures++;
          line = `error: ${(error as Error).message} (is deflect running at ${base}?)`;
        }
        console.log(`[${i + 1}/${files.length}] ${file} → ${line}`);
      }
      if (failures > 0) throw new Error(`${failures} of ${files.length} payloads were not accepted`);
    });
}
