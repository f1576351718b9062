/**
 * The {@link JiraApi} for the configured deployment: Jira Cloud (`jira-client.ts`, REST v3, basic auth) or Jira Data
 * Center (`jira-dc-client.ts`, REST v2, Bearer PAT). Callers (server, import, reconcile) use this and never need to
 * know which one they talk to.
 */
import type { JiraConfig } from './jira-config.js';
import type { JiraApi } from './jira-actions.js';
import { createJiraApi } from './jira-client.js';
import { createJiraDcApi } from './jira-dc-client.js';

/**
 * @param jira `config.jira` (its secret is a hidden property, read here only).
 * @param timeoutMs per-request timeout, ms (`config.jiraTimeoutMs`).
 * @throws Error synchronously when the base URL is not an absolute http(s) URL.
 */
export function jiraApiFor(jira: JiraConfig, timeoutMs?: number): JiraApi {
  return jira.deployment === 'datacenter'
    ? createJiraDcApi({ baseUrl: jira.baseUrl, pat: jira.pat, timeoutMs })
    : createJiraApi({ baseUrl: jira.baseUrl, email: jira.email, apiToken: jira.apiToken, timeoutMs });
}

/** The credential variables of the deployment, for messages: `JIRA_PAT` or `JIRA_EMAIL / JIRA_API_TOKEN`. */
export const JIRA_CREDENTIAL_HELP = 'JIRA_BASE_URL with JIRA_EMAIL + JIRA_API_TOKEN (Cloud) or JIRA_PAT (Data Center)';
