import type { Command } from 'commander';
import { commandDescription } from '../command-manifest.js';
import { ZodError } from 'zod';
import { issueApiToken, listTokens } from '../../auth/issue-token.js';
import { ROLES } from '../../auth/roles.js';
import { cliConfig, withReadDatabase, openWriteDatabase } from '../cli-database.js';
import { UsageError } from '../cli-errors.js';
import type { Store } from '../../db/store.js';
import { parseFormat, renderTable } from '../output.js';

/**
 * `deflect tokens create --name NAME --role auditor|operator|admin [--format json]` prints a new API token once
 * (JSON: `{ "name", "role", "token" }`); only its SHA-256 is stored. `deflect tokens list` shows names, roles and
 * dates, never tokens or hashes. `deflect tokens revoke NAME` revokes the token and ends its sign-in sessions at once.
 * They work on DEFLECT_DB directly, so the first admin token is made on the host.
 */
export function registerTokensCommand(program: Command): void {
  const tokens = program.command('tokens').description(commandDescription('tokens'));

  tokens
    .command('create')
    .description('create an API token and print it once')
    .requiredOption('--name <name>', 'who or what uses it, e.g. maya or grafana (unique among active tokens)')
    .requiredOption('--role <role>', `one of ${ROLES.join(', ')}`)
    .option('--format <format>', 'text or json', 'text')
    .action(async (options: { name: string; role: string; format: string }) => {
      const format = parseFormat(options.format, ['text', 'json']);
      const issued = await withDb(async (db) => {
        try {
          return await issueApiToken(db, options.name, options.role);
        } catch (error) {
          if (error instanceof ZodError) throw new UsageError(error.issues.map((i) => `--${String(i.path[0])}: ${i.message}`).join('; '));
          throw error;
        }
      });
      if (format === 'json') return void console.log(JSON.stringify(issued));
      console.log(`Created token "${issued.name}" with the ${issued.role} role. It is shown only this once:\n\n  ${issued.token}\n`);
      console.log('Use it as "Authorization: Bearer <token>", or sign in with it at /signin. Revoke it with deflect tokens revoke ' + issued.name);
    });

  tokens
    .command('list')
    .description('list tokens (names, roles, dates; never the tokens)')
    .option('--format <format>', 'table or json', 'table')
    .action(async (options: { format: string }) => {
      const format = parseFormat(options.format, ['table', 'json']);
      const rows = await withReadDatabase(cliConfig(), listTokens);
      if (format === 'json') return void console.log(JSON.stringify({ tokens: rows }, null, 2));
      if (rows.length === 0) return void console.log('No tokens. Create one with deflect tokens create --name NAME --role auditor|operator|admin');
      console.log(
        renderTable(
          ['name', 'role', 'created', 'last used', 'revoked'],
          rows.map((r) => [r.name, r.role, r.createdAt ?? '', r.lastUsedAt ?? 'never', r.revokedAt ?? '']),
        ),
      );
    });

  tokens
    .command('revoke')
    .argument('<name>', 'the token name (from deflect tokens list)')
    .description('revoke a token: requests and sessions using it get 401 from now on')
    .action(async (name: string) => {
      if (!await withDb(async (db) => await db.revokeApiToken(name))) throw new Error(`no active token named "${name}" (see deflect tokens list)`);
      console.log(`Revoked "${name}"; its sign-in sessions are closed.`);
    });
}

async function withDb<T>(work: (db: Store) => Promise<T>): Promise<T> {
  const db = await openWriteDatabase(cliConfig());
  try {
    return await work(db);
  } finally {
    await db.close();
  }
}
