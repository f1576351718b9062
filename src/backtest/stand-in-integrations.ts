/**
 * (backtest) The integrations a backtest gives handlers. They are always built from the config WITHOUT credentials
 * (`GITHUB_TOKEN` dropped), so no client that could reach another system is ever constructed.
 *
 * - `unconfigured`: exactly as deflect runs with no credentials (`ctx.integrations.github.api` is null): handlers take
 *   their "not applied" path and plan the comment that tells a person what to apply.
 * - `stand-in` (default): each integration's missing client (`api: null`) is replaced by a stand-in whose every
 *   method throws {@link StandInCallError}. A backtest runs in dry run, where `ctx.act` records the call `planned` and
 *   never calls it, so handlers take the path they would take with the integration configured, and nothing can be
 *   sent: a handler that calls a client outside `ctx.act` fails its run with the error, which the backtest shows.
 */
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { createIntegrations, type Integrations } from '../integrations/index.js';

export type BacktestIntegrations = 'stand-in' | 'unconfigured';

/** A handler called an integration's client directly (not through `ctx.act`): in a backtest nothing may be sent. */
export class StandInCallError extends Error {
  constructor(integration: string, method: string) {
    super(`backtest: ${integration}.api.${method}() was called outside ctx.act; nothing is sent in a backtest (wrap the call in ctx.act so dry runs plan it)`);
    this.name = 'StandInCallError';
  }
}

/** A client whose every method throws {@link StandInCallError}; `timeoutMs` reads 0. */
function standInClient(integration: string): unknown {
  return new Proxy(
    {},
    {
      get(_target, property) {
        if (property === 'timeoutMs') return 0;
        if (typeof property !== 'string' || property === 'then') return undefined;
        return () => {
          throw new StandInCallError(integration, property);
        };
      },
    },
  );
}

/** The integrations of a backtest (see the module comment); built without credentials, sends nothing. */
export function backtestIntegrations(config: Pick<Config, 'github'>, kind: BacktestIntegrations, log: Logger): Integrations {
  const built = createIntegrations({ github: { ...config.github, token: null } }, log) as unknown as Record<string, Record<string, unknown>>;
  if (kind === 'unconfigured') return built as unknown as Integrations;
  const withStandIns = Object.fromEntries(
    Object.entries(built).map(([name, instance]) => [name, 'api' in instance && instance.api === null ? { ...instance, api: standInClient(name) } : instance]),
  );
  return Object.freeze(withStandIns) as unknown as Integrations;
}
