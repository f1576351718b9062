/**
 * Rule modes (issue 11) at the rules-file and classify level: `mode` defaults to live, only off|shadow|live are
 * accepted (with path:line:col), an off rule never matches, says so, and does not stop later rules; a shadow rule
 * matches like a live one. Also the LiveRules holder: an unchanged file is not reloaded; a changed one is.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';
import { classify } from '../../src/rules/classify.js';
import { LiveRules, readRulesSnapshot, rulesVersionOf } from '../../src/rules/live-rules.js';
import { parseRules, RulesFileError } from '../../src/rules/rules-file.js';
import type { Ticket } from '../../src/ticket.js';
import type { TrackerEvent } from '../../src/trackers/tracker.js';
import { freshDir } from '../support/deflect-under-test.js';

const HANDLERS = ['grant-repo-access', 'fallback-access'];
const ticket: Ticket = {
  id: '1', key: 'PLAT-1', project: 'PLAT', issueType: 'Task', status: 'To Do', labels: ['access-request'], summary: 's', description: null,
  reporter: null, reporterId: null, created: null, updated: null, resolved: null, siteUrl: null,
};
const created = { event: 'jira:issue_created', kind: 'created', eventType: null, timestamp: 1, actor: 'someone', ticket, labelsAdded: [], labelsRemoved: [], siteHost: null, selfHosts: [] } as unknown as TrackerEvent;
const text = (firstMode: string) => `rules:
  - name: first
    labels: [access-request]
    handler: grant-repo-access
    mode: ${firstMode}
  - name: second
    labels: [access-request]
    handler: fallback-access
`;

describe('rule modes', () => {
  it('defaults to live and refuses other words with path:line:col', () => {
    const rules = parseRules(text('shadow'), 'r.yaml', HANDLERS);
    expect(rules.map((r) => r.mode)).toEqual(['shadow', 'live']);
    expect(() => parseRules(text('maybe'), 'r.yaml', HANDLERS)).toThrow(RulesFileError);
    expect(() => parseRules(text('maybe'), 'r.yaml', HANDLERS)).toThrow(/^r\.yaml:5:11: rules\.0\.mode: .*"off".*"shadow".*"live"/);
  });

  it('an off rule never matches, gives the reason, and lets later rules match; a shadow rule matches', () => {
    const off = classify(created, parseRules(text('off'), 'r.yaml', HANDLERS));
    expect(off.matches.map((m) => m.rule.name)).toEqual(['second']);
    const onlyOff = classify(created, parseRules(text('off'), 'r.yaml', HANDLERS).slice(0, 1));
    expect(onlyOff.matches).toEqual([]);
    expect(onlyOff.reason).toBe('no rule matches labels [access-request] (rule first #1 is off)');
    const shadow = classify(created, parseRules(text('shadow'), 'r.yaml', HANDLERS));
    expect(shadow.matches.map((m) => [m.rule.name, m.rule.mode])).toEqual([['first', 'shadow']]);
  });

  it('LiveRules reloads a changed file, skips an unchanged one, and keeps the rules on a broken one', async () => {
    const path = join(freshDir('deflect-live-rules-'), 'rules.yaml');
    writeFileSync(path, text('shadow'));
    const errors: string[] = [];
    const sink = new Writable({ write: (chunk, _enc, done) => (String(chunk).includes('"level":50') && errors.push(String(chunk)), done()) });
    const live = new LiveRules(await readRulesSnapshot(path, HANDLERS), { path, knownHandlers: HANDLERS, logger: createLogger('info', sink) });
    expect(live.current.version).toBe(rulesVersionOf(text('shadow')));
    expect(await live.reload()).toEqual({ status: 'unchanged', version: rulesVersionOf(text('shadow')) });
    writeFileSync(path, text('live'));
    expect(await live.reload()).toEqual({ status: 'reloaded', version: rulesVersionOf(text('live')), rules: 2 });
    expect(live.current.rules[0].mode).toBe('live');
    writeFileSync(path, 'rules: [');
    const broken = await live.reload();
    expect(broken.status).toBe('rejected');
    expect(broken.status === 'rejected' && broken.problems[0]).toMatch(new RegExp(`^${path}:\\d+:\\d+: YAML syntax error`));
    expect(live.current.version).toBe(rulesVersionOf(text('live')));
    // The same broken text is logged once on watch events (the folder may change for other reasons), again on SIGHUP.
    expect((await live.reload('file changed')).status).toBe('rejected');
    expect(errors).toHaveLength(1);
    await live.reload('SIGHUP');
    expect(errors).toHaveLength(2);
  });
});
