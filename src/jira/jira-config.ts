/**
 * The Jira part of the configuration (`config.jira`): which deployment, which site, which credentials. Built by
 * `loadConfig` (`src/config.ts`, the only module reading `process.env`) from its parsed variables.
 */

/** The Jira variables `loadConfig` has parsed (base URL without trailing slash; empty values already dropped). */
export interface JiraVariables {
  JIRA_BASE_URL?: string;
  JIRA_EMAIL?: string;
  JIRA_API_TOKEN?: string;
  JIRA_PAT?: string;
  JIRA_ACCOUNT_ID?: string;
}

/**
 * Jira REST access: Cloud (`JIRA_BASE_URL` + `JIRA_EMAIL` + `JIRA_API_TOKEN`, REST v3, basic auth) or Data Center
 * (`JIRA_BASE_URL` + `JIRA_PAT`, REST v2, `Authorization: Bearer <PAT>`:
 * https://confluence.atlassian.com/enterprise/using-personal-access-tokens-1026032365.html).
 * The secret (`apiToken`, `pat`) is a **non-enumerable** property: readable by the client factory, but skipped by
 * `JSON.stringify`, pino, `util.inspect` and object spread, so logging the config (or an object built from it)
 * never prints it.
 */
export type JiraConfig =
  | { deployment: 'cloud'; baseUrl: string; accountId: string | null; email: string; readonly apiToken: string }
  | { deployment: 'datacenter'; baseUrl: string; accountId: string | null; readonly pat: string };

/** `target` with `key` set to `secret` as a read-only, non-enumerable property (see {@link JiraConfig}). */
function withHiddenSecret<T extends object>(target: T, key: string, secret: string): T {
  return Object.defineProperty(target, key, { value: secret, enumerable: false, writable: false, configurable: false });
}

/**
 * The Jira part of the config (called by `loadConfig` with the parsed environment): one complete credential set
 * selects the deployment.
 * @returns the config, null when no Jira variable is set, or a one-line problem naming the variables when a set is
 *   partial or both sets are given (never the secrets' values); `loadConfig` throws it as a ConfigError.
 */
export function jiraConfigOf(e: JiraVariables): JiraConfig | null | string {
  const cloudVars = { JIRA_EMAIL: e.JIRA_EMAIL, JIRA_API_TOKEN: e.JIRA_API_TOKEN };
  const names = (vars: Record<string, unknown>, set: boolean) => Object.keys(vars).filter((k) => Boolean(vars[k]) === set);
  const cloudSet = names(cloudVars, true);
  if (cloudSet.length > 0 && e.JIRA_PAT) {
    return `JIRA_PAT and ${cloudSet.join(', ')}: set one credential set, not both (Jira Cloud: JIRA_BASE_URL + JIRA_EMAIL + JIRA_API_TOKEN; Jira Data Center: JIRA_BASE_URL + JIRA_PAT)`;
  }
  if (e.JIRA_PAT) {
    if (!e.JIRA_BASE_URL) return 'JIRA_BASE_URL: required when JIRA_PAT is set (the Data Center base URL, with its context path if any, e.g. https://jira.acme.internal/jira)';
    return Object.freeze(withHiddenSecret({ deployment: 'datacenter' as const, baseUrl: e.JIRA_BASE_URL, accountId: e.JIRA_ACCOUNT_ID ?? null }, 'pat', e.JIRA_PAT) as JiraConfig);
  }
  const all = { JIRA_BASE_URL: e.JIRA_BASE_URL, ...cloudVars };
  const set = names(all, true);
  if (set.length > 0 && set.length < 3) {
    return `${names(all, false).join(', ')}: required when ${set.join(', ')} is set (Jira Cloud: set all three; Jira Data Center: JIRA_BASE_URL + JIRA_PAT; none for dry run)`;
  }
  if (set.length === 0) return null;
  const cloud = { deployment: 'cloud' as const, baseUrl: e.JIRA_BASE_URL!, accountId: e.JIRA_ACCOUNT_ID ?? null, email: e.JIRA_EMAIL! };
  return Object.freeze(withHiddenSecret(cloud, 'apiToken', e.JIRA_API_TOKEN!) as JiraConfig);
}

