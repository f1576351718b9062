/**
 * The stored history the backtest tests run on: Jira issues written as a JSONL dump (the `deflect import jsonl`
 * format), and a rules file whose repo-access rule is `off` (backtest is the step before shadow mode).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const DAY_MS = 86_400_000;

/** One Jira REST issue line; `daysAgo` sets its created time relative to `now`. */
function issue(n: number, labels: string[], description: string | null, daysAgo: number, now: number): string {
  const created = new Date(now - daysAgo * DAY_MS).toISOString();
  return JSON.stringify({
    id: String(7000 + n),
    key: `OPS-${n}`,
    self: `https://acme-example.atlassian.net/rest/api/3/issue/${7000 + n}`,
    fields: {
      summary: `Request ${n}`,
      description,
      labels,
      issuetype: { name: 'Task' },
      status: { name: 'To Do' },
      project: { key: 'OPS' },
      reporter: { displayName: 'Jane Doe', accountId: 'jane-account-id' },
      created,
      updated: created,
    },
  });
}

/**
 * The tickets, and what grant-repo-access with `allowedOrgs: [acme]`, `maxRoleWithoutApproval: write` does to them:
 * - OPS-1 asks write on acme/api for octocat → planned: github.add_collaborator, comment, transition;
 * - OPS-2 asks read on other-org/tool → refused (one comment), nothing called;
 * - OPS-3 names no repository → input problem `repository is missing`, the reporter is asked (one comment);
 * - OPS-4 carries no label, OPS-5 the create-repository label → not matched;
 * - OPS-6 like OPS-1 but created 200 days ago → outside `--since 90d`.
 */
export function writeHistory(dir: string, now = Date.now()): string {
  const file = join(dir, 'history.jsonl');
  const lines = [
    issue(1, ['access-request'], 'Please.\nRepository: acme/api\nPermission: write\nGitHub User: octocat', 3, now),
    issue(2, ['Access-Request'], 'Repository: other-org/tool\nPermission: read\nGitHub User: octocat', 2, now),
    issue(3, ['access-request'], 'I need access to the API repo please', 1, now),
    issue(4, [], 'Repository: acme/api', 1, now),
    issue(5, ['new-repo'], 'Repository Name: payments-ledger\nOwning Team: payments', 1, now),
    issue(6, ['access-request'], 'Repository: acme/web\nPermission: read\nGitHub User: octocat', 200, now),
  ];
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

/** The rules file; `repoAccessWith` is the YAML flow mapping of the repo-access rule's `with:`. */
export function writeRules(dir: string, repoAccessWith = '{ allowedOrgs: [acme], maxRoleWithoutApproval: write }', name = 'rules.yaml'): string {
  const file = join(dir, name);
  writeFileSync(
    file,
    [
      'rules:',
      '  - name: repo-access',
      '    labels: [access-request]',
      '    handler: grant-repo-access',
      '    mode: off',
      `    with: ${repoAccessWith}`,
      '  - name: new-repository',
      '    labels: [new-repo]',
      '    handler: create-repository',
      '    mode: shadow',
      '',
    ].join('\n'),
  );
  return file;
}
