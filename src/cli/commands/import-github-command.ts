/**
 * `deflect import github --repo OWNER/NAME [--since ISO]` (history import, `trackers/github/github-import.ts`) and
 * the GitHub branch of `deflect reconcile --tracker github --repo OWNER/NAME [--since 2h]`
 * (`trackers/github/github-reconcile.ts`). Both read GITHUB_TOKEN and GITHUB_API_URL (`https://<host>/api/v3` for
 * GitHub Enterprise Server); the token needs read access to the repository's issues (classic: `repo` for private
 * repositories; fine-grained: Issues read).
 */
import type { Command } from 'commander';
import type { Config } from '../../config.js';
import { cliConfig, openWriteDatabase } from '../cli-database.js';
import { GitHubRequestError } from '../../integrations/github.js';
import { regroupTickets } from '../../reports/regroup.js';
import { createGitHubIssuesClient, parseRepository } from '../../trackers/github/github-client.js';
import { importGitHubIssues } from '../../trackers/github/github-import.js';
import { DEFAULT_GITHUB_SETTLE_MS, reconcileGitHub } from '../../trackers/github/github-reconcile.js';
import { parseFormat, renderTable } from '../output.js';
import { groupedLine } from './group-command.js';

/** Registers `github` under the `import` command. */
export function registerImportGitHubCommand(importCommand: Command): void {
  importCommand
    .command('github')
    .requiredOption('--repo <owner/name>', 'the repository whose issues to import, e.g. acme/platform-requests')
    .option('--since <iso>', 'only issues updated at or after this time (ISO 8601, e.g. 2026-01-01)')
    .option('--no-group', 'do not regroup tickets by text afterwards')
    .description('import the issues of a GitHub repository (open and closed; pull requests skipped)')
    .action(async (options: { repo: string; since?: string; group: boolean }) => {
      checkRepository(options.repo);
      const since = options.since === undefined ? null : parseIso(options.since);
      const config = cliConfig();
      const db = await openWriteDatabase(config);
      try {
        const result = await explained(options.repo, config, () =>
          importGitHubIssues(db, clientFor(config), options.repo, {
            since,
            onBadIssue: ({ number, error }) => process.stderr.write(`issue #${number ?? '?'}: skipped: ${error}\n`),
          }),
        );
        console.log(
          `imported ${result.imported} issues from ${result.repository} in ${(result.ms / 1000).toFixed(1)} s; ` +
            `${result.pullRequests} pull requests skipped, ${result.skipped} bad issues skipped`,
        );
        if (options.group) console.log(groupedLine(await regroupTickets(db)));
      } finally {
        await db.close();
      }
    });
}

/** `deflect reconcile --tracker github`: the options are those of the reconcile command (`--repo` may repeat). */
export async function reconcileGitHubCommand(options: { repo?: string[]; since?: number; settle?: number; dryRun?: boolean; format: string }): Promise<void> {
  const format = parseFormat(options.format, ['table', 'json']);
  const repositories = options.repo ?? [];
  if (repositories.length === 0) throw new Error('reconcile --tracker github needs --repo OWNER/NAME (repeat it for several repositories)');
  repositories.forEach(checkRepository);
  const now = Date.now();
  const since = options.since === undefined ? null : now - options.since;
  const settleMs = options.settle ?? DEFAULT_GITHUB_SETTLE_MS;
  const config = cliConfig();
  const db = await openWriteDatabase(config);
  try {
    const result = await explained(repositories.join(', '), config, () =>
      reconcileGitHub({ db, client: clientFor(config), repositories, since, settleMs, dryRun: options.dryRun, now }),
    );
    if (format === 'json') return void console.log(JSON.stringify(result, null, 2));
    const fresh = result.missed.filter((m) => !m.duplicate).length;
    console.log(`issues of ${repositories.join(', ')} updated since ${new Date(result.since).toISOString()}`);
    console.log(
      `${result.scanned} issues checked: ${result.upToDate} up to date, ${result.skipped} skipped (settling or outside the window), ` +
        `${result.missed.length} missed` +
        (options.dryRun ? ' (dry run: nothing stored)' : `, ${fresh} stored as deliveries (${result.missed.length - fresh} already stored by an earlier reconcile)`),
    );
    if (result.missed.length > 0) {
      console.log(renderTable(['issue', 'processed as', 'why', 'delivery'], result.missed.map((m) => [m.key, m.event, m.why, m.deliveryId ?? '—'])));
    }
  } finally {
    await db.close();
  }
}

const clientFor = (config: Config) =>
  createGitHubIssuesClient({ baseUrl: config.github.baseUrl, token: config.github.token ?? '', timeoutMs: config.github.timeoutMs });

function checkRepository(repo: string): void {
  try {
    parseRepository(repo);
  } catch {
    throw new Error(`--repo "${repo}" is not a repository name: expected OWNER/NAME, e.g. acme/platform-requests`);
  }
}

function parseIso(value: string): number {
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new Error(`--since "${value}" is not a date: expected ISO 8601, e.g. 2026-01-01 or 2026-01-01T09:00:00Z`);
  return ms;
}

/** Runs `call`, turning GitHub's 401 / 404 into one line saying what to fix. */
async function explained<T>(repo: string, config: Config, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (!(error instanceof GitHubRequestError)) throw error;
    if (error.status === 401) throw new Error(`GitHub refused the token (401): check GITHUB_TOKEN${config.github.token ? '' : ' (it is not set)'}`);
    if (error.status === 404) {
      throw new Error(`repository ${repo} not found at ${config.github.baseUrl} (404), or not visible to GITHUB_TOKEN${config.github.token ? '' : ' (not set: only public repositories are visible)'}`);
    }
    throw error;
  }
}
