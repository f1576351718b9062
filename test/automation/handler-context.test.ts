import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineHandler } from '../../src/automation/define-handler.js';
import { createNotApplied } from '../../src/automation/not-applied.js';
import { createTestContext, runHandler, TestInputRejectedError } from '../../src/automation/test-context.js';
import { handlerTracker } from '../../src/automation/tracker.js';
import { commentToAdf, md, type Markdown } from '../../src/jira/comment-markdown.js';
import type { JiraActions } from '../../src/jira/jira-actions.js';

/** Jira actions that record each call as `[method, ...args]`. */
function recordingJira() {
  const calls: unknown[][] = [];
  const record = (method: string) => async (...args: unknown[]) => void calls.push([method, ...args]);
  const jira: JiraActions = {
    comment: record('comment'),
    transition: record('transition'),
    assign: record('assign'),
    addLabels: record('addLabels'),
    removeLabels: record('removeLabels'),
  };
  return { jira, calls };
}

describe('ctx.tracker over Jira', () => {
  it('maps comment, resolve (default Done), label and assign to the recorded Jira actions', async () => {
    const { jira, calls } = recordingJira();
    const tracker = handlerTracker('jira', jira);
    await tracker.comment('hello');
    await tracker.resolve();
    await tracker.resolve('Closed');
    await tracker.label('automated', 'team-x');
    await tracker.assign(null);
    expect(tracker.kind).toBe('jira');
    expect(calls).toEqual([
      ['comment', 'hello'],
      ['transition', 'Done'],
      ['transition', 'Closed'],
      ['addLabels', 'automated', 'team-x'],
      ['assign', null],
    ]);
  });
});

describe('ctx.notApplied', () => {
  it('comments reason, steps as a checklist, the resolve step and the request id, and returns applied: false', async () => {
    const { jira, calls } = recordingJira();
    const notApplied = createNotApplied(handlerTracker('jira', jira), 'PLAT-1:h:d1');
    const result = await notApplied(md`no token for **X**.`, [md`Do \`a\``, 'Do [b](https://evil.example)'], { note: 'Reply here.' });
    expect(result).toEqual({ summary: 'validated; not applied: no token for **X**.', applied: false });
    expect(calls).toHaveLength(1);
    expect(String(calls[0][1])).toBe(
      [
        'This request is valid and allowed by the rules, but it was **not applied**: no token for **X**.',
        '',
        'A platform engineer needs to apply it:',
        '',
        '- [ ] Do `a`',
        '- [ ] Do [b](https://evil.example)',
        '- [ ] Resolve this ticket',
        '',
        'Reply here.',
        '',
        'Request id: `PLAT-1:h:d1`',
      ].join('\n'),
    );
  });

  it('treats a plain-string step as literal text, never markup (it stays a value in the comment)', async () => {
    const { jira, calls } = recordingJira();
    await createNotApplied(handlerTracker('jira', jira), 'k')('why', ['[b](https://evil.example)'], { summary: 'short' });
    const adf = JSON.stringify(commentToAdf(calls[0][1] as Markdown));
    expect(adf).toContain('[b](https://evil.example)'); // shown as typed
    expect(adf).not.toContain('"link"'); // never a link mark
  });
});

describe('createTestContext / runHandler', () => {
  const handler = defineHandler({
    name: 'label-and-resolve',
    description: 'Test handler.',
    input: z.object({ team: z.string().describe('Team, for example `payments`.') }),
    async run(ctx) {
      const made = await ctx.act('vault.rotate', { team: ctx.input.team }, async (key) => ({ key }));
      await ctx.tracker.label('rotated');
      await ctx.tracker.comment(md`Rotated for \`${ctx.input.team}\`${made ? '' : ' (dry run)'}.`);
      await ctx.tracker.resolve();
      return { summary: `rotated ${ctx.input.team}` };
    },
  });

  it('parses the form like the worker, runs the handler and records every call in order', async () => {
    const run = await runHandler(handler, { description: 'Team: payments' });
    expect(run.calls.map((c) => c.method)).toEqual(['act', 'label', 'comment', 'resolve']);
    expect(run.acts).toEqual([{ kind: 'vault.rotate', request: { team: 'payments' } }]);
    expect(run.labels).toEqual(['rotated']);
    expect(run.comments).toEqual(['Rotated for `payments`.']);
    expect(run.resolutions).toEqual(['Done']);
    expect(run.result).toEqual({ summary: 'rotated payments' });
    expect(run.ctx.idempotencyKey).toBe('PLAT-1:label-and-resolve:delivery-1');
    expect(run.ctx.integrations.github.api).toBeNull();
  });

  it('in dry run records act without making the call', async () => {
    const run = await runHandler(handler, { description: 'Team: payments', dryRun: true });
    expect(run.comments).toEqual(['Rotated for `payments` (dry run).']);
  });

  it('refuses a ticket the schema rejects, with the problems and the reporter comment', async () => {
    const error = await runHandler(handler, { description: 'nothing here' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TestInputRejectedError);
    expect((error as TestInputRejectedError).problems).toEqual([{ field: 'team', message: 'is missing' }]);
    expect((error as TestInputRejectedError).comment).toContain('**Team**');
  });

  it('injects fake integrations by name and captures the log', async () => {
    const t = createTestContext({ input: { x: 1 }, integrations: { github: { api: null, org: 'globex', callTimeoutMs: 0 } } });
    t.ctx.log.info({ step: 1 }, 'hello');
    expect(t.ctx.integrations.github.org).toBe('globex');
    expect(t.logLines.map((l) => [l.msg, l.step])).toEqual([['hello', 1]]);
  });
});
