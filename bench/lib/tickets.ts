/**
 * Generated tickets with the shape of a platform team's Jira: a few projects, ~60 labels with a long-tailed
 * (Zipf-like) frequency, 0 to 3 labels per ticket (about one in five unlabelled), summaries that repeat a request
 * type with varying names, repositories and versions, descriptions from short to a few paragraphs (some are the
 * `Field: value` forms handlers read), creation spread evenly over a time span, 85% resolved after a log-normal
 * time (median ~20 h). Seeded, so every run generates the same tickets.
 */
import { seededRandom } from '../../test/support/seeded-random.js';

/** Seeded PRNG returning [0, 1) (mulberry32). */
export const prng = seededRandom;


/** Labels, most frequent first; each has summary templates (`{repo}`, `{name}`, `{team}`, `{env}`, `{ver}`, `{host}`). */
const LABELS: Array<[string, string[]]> = [
  ['access-request', ['Need {perm} access to {repo}', 'Access to {repo} for {name}', 'Please add {name} to {repo}']],
  ['token-reset', ['Reset {token} for {repo}', '{token} expired on {repo}', 'Rotate {token} used by {repo} pipeline']],
  ['new-repo', ['Create repository {repo}', 'New repo {repo} for team {team}', 'Please set up {repo} from the {tmpl} template']],
  ['dns', ['Add DNS record for {host}', 'CNAME {host} to the {env} load balancer', 'DNS for {host} is not resolving']],
  ['vpn', ['VPN access for {name}', 'VPN keeps disconnecting for {name}', 'Cannot connect to {env} over VPN']],
  ['onboarding', ['Onboard {name} to team {team}', 'New joiner {name}: accounts and access', 'Set up laptop and access for {name}']],
  ['ci-token', ['CI token for {repo} is invalid', 'Deploy token missing on {repo}']],
  ['build-failure', ['Build of {repo} fails on main', '{repo} CI red since {ver} upgrade', 'Pipeline for {repo} times out']],
  ['k8s-namespace', ['Namespace {team}-{env} in the cluster', 'Kubernetes namespace for {repo}', 'Raise pod limits in {team}-{env}']],
  ['cert-renewal', ['TLS certificate for {host} expires soon', 'Renew certificate of {host}']],
  ['database-access', ['Read access to the {env} database for {name}', 'DB credentials for {repo} in {env}']],
  ['offboarding', ['Offboard {name}', 'Remove {name} from {team} groups']],
  ['repo-access', ['Write access to {repo} for {name}', 'Maintain role on {repo}']],
  ['flaky-test', ['Flaky test in {repo}: {test}', '{test} fails randomly on {repo}']],
  ['deploy-failure', ['Deploy of {repo} to {env} failed', 'Rollback {repo} {ver} in {env}']],
  ['quota-increase', ['Increase {quota} quota for {team}', '{quota} quota reached in {env}']],
  ['iam-role', ['IAM role for {repo} in {env}', 'Grant {name} the {team}-admin role']],
  ['secrets', ['Add secret {token} to {repo}', 'Secret {token} leaked in {repo} logs']],
  ['monitoring', ['Dashboard for {repo} in {env}', 'Metrics missing for {repo}']],
  ['alerting', ['Alert noise from {repo} in {env}', 'Page {team} when {repo} errors spike']],
  ['repo-request', ['Repository {repo} for a new service', 'Archive {repo}']],
  ['sso', ['SSO login fails for {name}', 'Add {tool} to SSO']],
  ['s3-bucket', ['Bucket for {repo} exports in {env}', 'Make bucket {repo}-{env} private']],
  ['incident', ['{repo} down in {env}', 'Elevated errors on {repo} after {ver}']],
  ['cost', ['Unexpected cost increase on {team} account', 'Right-size {repo} instances in {env}']],
  ['runner', ['Self-hosted runner for {repo}', 'Runners queueing for {team}']],
  ['artifact-registry', ['Publish {repo} {ver} to the registry', 'Registry token for {repo}']],
  ['feature-flag', ['Feature flag project for {team}', 'Flag cleanup in {repo}']],
  ['postmortem', ['Postmortem: {repo} outage in {env}']],
  ['docs', ['Document the {tool} setup', 'Runbook for {repo}']],
];
// The long tail: labels seen rarely.
for (const tail of ['backup', 'restore', 'firewall', 'proxy', 'mail-relay', 'sftp', 'cdn', 'waf', 'kafka-topic', 'redis', 'elasticsearch', 'terraform', 'helm-chart', 'argo-cd', 'jenkins', 'sonar', 'dependabot', 'license', 'audit', 'pen-test', 'gpu', 'spot-instances', 'vault', 'ldap', 'ssh-keys', 'bastion', 'ntp', 'log-retention', 'tracing', 'status-page']) {
  LABELS.push([tail, [`${tail.replace(/-/g, ' ')} request for {repo}`, `Problem with ${tail.replace(/-/g, ' ')} in {env}`]]);
}

/** Labels that the example rules route to a handler (their tickets sometimes carry a succeeded run). */
export const ROUTED_LABELS = new Set(['access-request', 'repo-access', 'new-repo', 'repo-request', 'token-reset', 'ci-token']);

const WORDS: Record<string, string[]> = {
  perm: ['read', 'write', 'triage', 'maintain'],
  token: ['DEPLOY_TOKEN', 'NPM_TOKEN', 'SONAR_TOKEN', 'REGISTRY_PASSWORD', 'GH_PAT', 'SLACK_WEBHOOK'],
  team: ['payments', 'search', 'identity', 'growth', 'mobile', 'data', 'checkout', 'platform', 'risk', 'billing', 'catalog', 'ml'],
  env: ['prod', 'staging', 'dev', 'qa', 'eu-prod', 'us-prod'],
  tmpl: ['service', 'library', 'terraform-module'],
  quota: ['CPU', 'memory', 'storage', 'IP address', 'GPU'],
  tool: ['Grafana', 'Sentry', 'Argo CD', 'Vault', 'Datadog', 'PagerDuty', 'Snyk'],
  test: ['CheckoutFlowTest', 'test_refund_partial', 'LoginSpec', 'it_syncs_catalog', 'PaymentRetryTest'],
};
const FIRST = ['jane', 'omar', 'li', 'sara', 'tom', 'ana', 'raj', 'eva', 'max', 'kim', 'noah', 'mia', 'yuki', 'ivan', 'lea', 'sam'];
const LAST = ['doe', 'khan', 'wei', 'smith', 'berg', 'silva', 'patel', 'novak', 'meyer', 'lee', 'garcia', 'rossi'];
const NOUNS = ['api', 'ledger', 'gateway', 'worker', 'web', 'search', 'auth', 'events', 'reports', 'sync', 'admin', 'mobile', 'etl', 'notifier'];
const SENTENCES = [
  'This blocks the release planned for this week.',
  'It worked until yesterday and nothing changed on our side as far as I know.',
  'Our manager already approved it in the team channel.',
  'Please let me know if you need anything else from me.',
  'The error message says the request was denied by policy.',
  'We followed the runbook but the last step fails with a timeout.',
  'Several people on the team are affected, not only me.',
  'Logs from the last failing run are attached below.',
  'We need this before the audit at the end of the month.',
  'A workaround exists but it bypasses the audit trail.',
];

export interface GeneratedTicket {
  id: string;
  key: string;
  project: string;
  issueType: string;
  status: string;
  labels: string[];
  summary: string;
  /** The summary template the ticket was written from (its true request type), e.g. `Need {perm} access to {repo}`. */
  template: string;
  description: string | null;
  reporter: string;
  reporterId: string;
  created: number;
  updated: number;
  resolved: number | null;
}

/** Zipf-like cumulative weights over LABELS (weight 1/(rank+1)^1.1). */
const CUMULATIVE = (() => {
  const weights = LABELS.map((_, i) => 1 / (i + 1) ** 1.1);
  const total = weights.reduce((a, b) => a + b, 0);
  let acc = 0;
  return weights.map((w) => (acc += w / total));
})();

/**
 * A generator of `count` tickets created evenly between `from` and `to` (epoch ms), in creation order.
 * Call `next()` up to `count` times.
 */
export function ticketGenerator(count: number, from: number, to: number, seed = 1): { next(): GeneratedTicket } {
  const rand = prng(seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rand() * list.length)];
  const projects: Array<[string, number]> = [['PLAT', 0.5], ['INFRA', 0.75], ['SEC', 0.9], ['DATA', 1]];
  const counters = new Map<string, number>();
  const step = (to - from) / count;
  let i = 0;
  const fill = (template: string) =>
    template.replace(/\{(\w+)\}/g, (_, slot: string) => {
      if (slot === 'repo') return `${pick(WORDS.team)}-${pick(NOUNS)}`;
      if (slot === 'name') return `${pick(FIRST)}.${pick(LAST)}`;
      if (slot === 'host') return `${pick(NOUNS)}.${pick(WORDS.env)}.acme.example`;
      if (slot === 'ver') return `${1 + Math.floor(rand() * 9)}.${Math.floor(rand() * 20)}.${Math.floor(rand() * 10)}`;
      return pick(WORDS[slot] ?? [slot]);
    });
  const drawLabel = () => {
    const r = rand();
    let lo = 0;
    while (CUMULATIVE[lo] < r) lo++;
    return LABELS[lo];
  };
  return {
    next() {
      const r = rand();
      const project = projects.find(([, p]) => r < p)![0];
      const number = (counters.get(project) ?? 0) + 1;
      counters.set(project, number);
      const n = rand();
      const labelCount = n < 0.2 ? 0 : n < 0.75 ? 1 : n < 0.95 ? 2 : 3;
      const picked = new Map<string, string[]>();
      for (let k = 0; k < labelCount; k++) {
        const [label, templates] = drawLabel();
        picked.set(label, templates);
      }
      const first = [...picked.values()][0] ?? drawLabel()[1];
      const template = pick(first);
      const summary = fill(template);
      const d = rand();
      const routed = picked.size > 0 && ROUTED_LABELS.has([...picked.keys()][0]);
      const description =
        d < 0.1
          ? null
          : routed && d < 0.7
            ? `Repository: acme/${pick(WORDS.team)}-${pick(NOUNS)}\nPermission: ${pick(WORDS.perm)}\nGitHub User: ${pick(FIRST)}-${pick(LAST)}`
            : Array.from({ length: 1 + Math.floor(rand() * 5) }, () => pick(SENTENCES)).join(' ');
      const created = Math.round(from + i * step + rand() * step);
      const resolved = rand() < 0.85 ? created + Math.round(Math.exp(Math.log(20) + rand() * 2.2 - 1.1) * 3_600_000) : null;
      const first2 = pick(FIRST);
      const last2 = pick(LAST);
      i++;
      return {
        id: String(1_000_000 + i),
        key: `${project}-${number}`,
        project,
        issueType: rand() < 0.8 ? 'Service Request' : 'Task',
        status: resolved === null ? (rand() < 0.5 ? 'To Do' : 'In Progress') : 'Done',
        labels: [...picked.keys()],
        summary,
        template,
        description,
        reporter: `${first2[0].toUpperCase()}${first2.slice(1)} ${last2[0].toUpperCase()}${last2.slice(1)}`,
        reporterId: `712020:${((i * 2654435761) >>> 0).toString(16).padStart(8, '0')}-${first2}-${last2}`,
        created,
        updated: resolved ?? created + Math.round(rand() * 86_400_000),
        resolved,
      };
    },
  };
}

/** Jira's REST timestamp format, e.g. `2026-01-02T03:04:05.678+0000`. */
export const jiraTimestamp = (ms: number): string => new Date(ms).toISOString().replace('Z', '+0000');

/** One ticket as a Jira REST issue (`{ id, key, fields }`), the shape of a JSONL export line. */
export function toRestIssue(t: GeneratedTicket): Record<string, unknown> {
  return {
    id: t.id,
    key: t.key,
    fields: {
      summary: t.summary,
      description: t.description,
      labels: t.labels,
      issuetype: { name: t.issueType },
      status: { name: t.status },
      project: { key: t.project },
      reporter: { displayName: t.reporter, accountId: t.reporterId },
      created: jiraTimestamp(t.created),
      updated: jiraTimestamp(t.updated),
      resolutiondate: t.resolved === null ? null : jiraTimestamp(t.resolved),
    },
  };
}
