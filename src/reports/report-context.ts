/**
 * The report's context (rules for "which handler automates this group", minutes-per-ticket estimates, Jira URL for
 * links) as the CLI builds it from the configuration.
 */
import { handlers } from '../../handlers/index.js';
import type { Config } from '../config.js';
import { DEFAULT_ESTIMATES, loadRulesConfig } from '../rules/rules-file.js';
import type { ReportContext } from './top-tickets-report.js';

/** Loads the rules file named by the config, if any. @throws RulesFileError on a bad rules file. */
export function reportContextFor(config: Config): ReportContext {
  const loaded = config.rulesPath
    ? loadRulesConfig(
        config.rulesPath,
        handlers, // (approvals) with their `options` schemas: `with:` is validated at load
      )
    : { rules: [], estimates: DEFAULT_ESTIMATES };
  return { rules: loaded.rules, estimates: loaded.estimates, jiraBaseUrl: config.jira?.baseUrl ?? null };
}
