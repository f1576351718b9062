/**
 * The report's context (rules for "which handler automates this group", minutes-per-ticket estimates, Jira URL for
 * links) as the CLI builds it from the configuration.
 *
 * The reports read which handler each rule names and the estimates; they run no handler. So the rules file is read
 * with the handler names it uses as the known ones (`KnownHandler` names only: `with:` options are not validated)
 * instead of the handler registry, whose modules pull in the tracker and integration clients (jira.js, Octokit,
 * axios: about 330 modules, ~0.4 s of a `deflect report` start on 2 cores). `deflect serve` and the commands that run
 * handlers still validate every rule fully.
 */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import type { Config } from '../config.js';
import { DEFAULT_ESTIMATES, loadRulesConfig } from '../rules/rules-file.js';
import type { ReportContext } from './top-tickets-report.js';

/** Loads the rules file named by the config, if any. @throws RulesFileError on a bad rules file. */
export function reportContextFor(config: Config): ReportContext {
  const loaded = config.rulesPath ? loadRulesConfig(config.rulesPath, handlerNamesIn(config.rulesPath)) : { rules: [], estimates: DEFAULT_ESTIMATES };
  return { rules: loaded.rules, estimates: loaded.estimates, jiraBaseUrl: config.jira?.baseUrl ?? null };
}

/** The `handler:` names of the rules file's rules; none when it cannot be read or parsed (loadRulesConfig then says why). */
function handlerNamesIn(path: string): string[] {
  try {
    const rules = (parse(readFileSync(path, 'utf8')) as { rules?: unknown } | null)?.rules;
    return Array.isArray(rules) ? rules.flatMap((r) => (typeof (r as { handler?: unknown })?.handler === 'string' ? [(r as { handler: string }).handler] : [])) : [];
  } catch {
    return [];
  }
}
