/**
 * The integration registry: the systems other than the ticket tracker that handlers call, each registered once
 * here and built once at start-up from the config. A handler reaches them as `ctx.integrations.<name>` and wraps
 * every call in `ctx.act` (recorded, effectively once, planned in dry run). The core handler context knows nothing
 * about any of them.
 *
 * To add one (say a Vault client): write `src/integrations/vault.ts` exporting its client, add
 * `defineIntegration({ name: 'vault', create: (config, log) => ... })` to {@link integrations}, and its settings to
 * `src/config.ts`. `ctx.integrations.vault` is then typed from what `create` returns.
 *
 * @example
 * ```ts
 * // in a handler
 * const { api, org } = ctx.integrations.github;
 * if (!api) return ctx.notApplied(md`deflect has no GitHub token (\`GITHUB_TOKEN\` is not set).`, [md`Add ...`]);
 * await ctx.act('github.add_collaborator', { repository, user }, () => api.addCollaborator(repository, user, 'write'));
 * ```
 */
import type { Logger } from 'pino';
import { DEFAULT_GITHUB_ORG, type Config } from '../config.js';
import { createGitHubApi, type GitHubApi } from './github.js';

/** What every built integration carries, whatever else it offers. */
export interface IntegrationInstance {
  /**
   * The longest a single call may take, ms (its per-request timeout), or 0 when the integration is not configured.
   * A timed-out run waits this long (plus 1 s) for its last call to settle before it is retried.
   */
  callTimeoutMs: number;
}

/** One registry entry: `name` is the key under `ctx.integrations`; `create` runs once at start-up. */
export interface IntegrationDefinition<Name extends string, Instance extends IntegrationInstance> {
  name: Name;
  /**
   * Builds the integration from the config. Sends nothing (a bad credential shows on the first call). When the
   * integration is not configured it still returns an instance (its settings, no client) so handlers can say what a
   * person must apply; it logs once which of the two it is.
   */
  create(config: Pick<Config, 'github'>, log: Logger): Instance;
}

/** Declares a registry entry (keeps `name` as a literal type so `ctx.integrations` is typed per name). */
export function defineIntegration<const Name extends string, Instance extends IntegrationInstance>(
  definition: IntegrationDefinition<Name, Instance>,
): IntegrationDefinition<Name, Instance> {
  return definition;
}

/**
 * GitHub as handlers see it: `api` is the REST client (`GITHUB_API_URL`, authenticated with `GITHUB_TOKEN`) or null
 * when `GITHUB_TOKEN` is unset: then tell the reporter the request is valid but must be applied by hand
 * (`ctx.notApplied`) and do not resolve the ticket. `org` is the organization to use when a request names none
 * (`GITHUB_ORG`, default `acme`), set with or without a token.
 */
export interface GitHubIntegration extends IntegrationInstance {
  api: GitHubApi | null;
  org: string;
}

/** `ctx.integrations.github`: see {@link GitHubIntegration}. */
export const githubIntegration = defineIntegration({
  name: 'github',
  create(config, log): GitHubIntegration {
    const { token, baseUrl, org, timeoutMs } = config.github;
    if (!token) {
      log.warn('GITHUB_TOKEN not set: GitHub handlers validate requests and comment what to apply, but change nothing in GitHub and leave tickets open');
      return { api: null, org, callTimeoutMs: 0 };
    }
    log.info({ github: baseUrl, org }, 'GitHub configured: handlers call it (recorded as actions)');
    return { api: createGitHubApi({ baseUrl, token, timeoutMs, log }), org, callTimeoutMs: timeoutMs };
  },
});

/** Every integration, in the order they are built. Add yours here. */
export const integrations = [githubIntegration] as const;

/** `ctx.integrations`: each registered integration by name, typed from its `create`. */
export type Integrations = {
  [Definition in (typeof integrations)[number] as Definition['name']]: ReturnType<Definition['create']>;
};

/** Builds every registered integration once (at start-up). Sends nothing. */
export function createIntegrations(config: Pick<Config, 'github'>, log: Logger): Integrations {
  const built: Record<string, IntegrationInstance> = {};
  for (const definition of integrations) built[definition.name] = definition.create(config, log);
  return Object.freeze(built) as Integrations;
}

/**
 * Integrations as they are when nothing is configured (no credentials, default settings): what a run gets when its
 * caller passed none (tests, tools), and the base `createTestContext` fills in.
 */
export function unconfiguredIntegrations(): Integrations {
  return { github: { api: null, org: DEFAULT_GITHUB_ORG, callTimeoutMs: 0 } };
}

/** The longest per-call timeout among the integrations, ms (0 when none is configured). */
export function longestCallTimeoutMs(built: Integrations): number {
  return Math.max(0, ...Object.values(built).map((instance: IntegrationInstance) => instance.callTimeoutMs));
}
