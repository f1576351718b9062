/**
 * The modal generator and reader on schemas the shipped handlers do not cover (booleans, optional enums, ticket
 * fields), the error mapping, and the description form's round trip through the reader the handlers use.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { formEnum, formFieldsOf, readDescriptionForm, writeDescriptionForm } from '../../src/automation/ticket-input.js';
import { modalErrors, readRequestValues, requestModal } from '../../src/slack/slack-modal.js';

const schema = z.object({
  serviceName: z.string().describe('The service.'),
  urgent: z.stringbool().default(false).describe('Page the on-call engineer.'),
  tier: formEnum(['gold', 'silver']).optional(),
  notes: z.string().optional(),
  summary: z.string(),
  reporter: z.string().optional(),
});

describe('Slack request modal', () => {
  const fields = formFieldsOf(schema);

  it('maps strings, booleans and enums to inputs, leaving ticket fields out', () => {
    expect(fields.map((f) => [f.key, f.kind, f.optional, f.defaultValue])).toEqual([
      ['serviceName', 'text', false, null],
      ['urgent', 'boolean', true, 'false'],
      ['tier', 'enum', true, null],
      ['notes', 'text', true, null],
    ]);
    const view = requestModal({ rule: 'a-very-long-rule-name-for-a-title', handler: 'h', description: 'd' }, fields);
    expect(view.title.text).toHaveLength(24);
    const urgent = view.blocks.find((b) => b.block_id === 'urgent') as any;
    expect(urgent.element).toEqual({ type: 'checkboxes', action_id: 'value', options: [{ text: { type: 'plain_text', text: 'Urgent' }, value: 'true' }] });
    expect(urgent.hint.text).toBe('Page the on-call engineer.');
    expect((view.blocks.find((b) => b.block_id === 'tier') as any).element.initial_option).toBeUndefined();
  });

  it('reads submitted values back in field order and leaves empty ones out', () => {
    const state = { values: {
      serviceName: { value: { type: 'plain_text_input', value: '  payments  ' } },
      urgent: { value: { type: 'checkboxes', selected_options: [{ value: 'true' }] } },
      tier: { value: { type: 'static_select', selected_option: null } },
      notes: { value: { type: 'plain_text_input', value: '' } },
      deflect_summary: { value: { type: 'plain_text_input', value: null } },
    } };
    expect(readRequestValues(state, fields)).toEqual({ summary: null, values: [['serviceName', 'payments'], ['urgent', 'true']] });
  });

  it('writes a form the handlers\' reader reads back exactly, one line per value', () => {
    const lines = writeDescriptionForm([['githubUser', 'octocat'], ['repositoryName', 'payments-ledger'], ['notes', 'two\nlines'], ['empty', '  ']]);
    expect(lines).toEqual(['GitHub User: octocat', 'Repository Name: payments-ledger', 'Notes: two lines']);
    expect(readDescriptionForm(lines.join('\n'))).toEqual({ githubUser: 'octocat', repositoryName: 'payments-ledger', notes: 'two lines' });
  });

  it('puts each problem under its block, and problems of fields without a block under the first', () => {
    expect(modalErrors([{ field: 'serviceName', message: 'is missing' }, { field: 'reporter', message: 'must be a string' }, { field: 'notes', message: '`x` is too long' }], fields)).toEqual({
      response_action: 'errors',
      errors: { serviceName: 'Service Name is missing; reporter must be a string', notes: 'Notes x is too long' },
    });
  });
});
