/**
 * (Slack, issue 15) The Block Kit views of the front door, generated from a handler's `input` schema, and reading a
 * submitted view back. Pure: no I/O.
 *
 * Block Kit facts (https://api.slack.com/reference/block-kit/blocks#input, .../block-elements, https://api.slack.com/surfaces/modals):
 * a modal's `title` is plain text of at most 24 characters, `private_metadata` at most 3,000; an `input` block has
 * `label`, `hint` (plain text, ≤ 2,000), `optional`, and one element; a `static_select` offers at most 100 options, each
 * `text` ≤ 75 characters; submitted values arrive in `view.state.values[block_id][action_id]`; a `view_submission`
 * answered `{ response_action: 'errors', errors: { <block_id>: '<message>' } }` shows each message under its block
 * (https://api.slack.com/surfaces/modals#displaying_errors).
 *
 * Mapping (fields from `formFieldsOf`, the same introspection the description form uses):
 * - a string field → `plain_text_input` (multiline when the label says reason/description/details), initial value = default;
 * - an enum (`formEnum`, `z.enum`) → `static_select` of its values, initial option = default;
 * - a boolean → `checkboxes` with one box (checked = `true`);
 * - `.describe()` → the block's `hint`; optional/defaulted → `optional: true`.
 * Block ids are the schema keys (so errors map back by field); every element's action id is `value`.
 */
import type { FormField } from '../automation/ticket-input.js';

/** `callback_id` of the modal that lists request types, and of the request form. */
export const CHOOSER_CALLBACK = 'deflect_choose';
export const REQUEST_CALLBACK = 'deflect_request';
/** `action_id` of the request-type select (chooser) and of the approval buttons. */
export const REQUEST_TYPE_ACTION = 'deflect_request_type';
export const APPROVE_ACTION = 'deflect_approve';
export const DENY_ACTION = 'deflect_deny';
/** Block id of the ticket summary input every request form starts with. */
export const SUMMARY_BLOCK = 'deflect_summary';

type Text = { type: 'plain_text'; text: string; emoji?: boolean };
export type Block = Record<string, unknown>;
export interface ModalView {
  type: 'modal';
  callback_id: string;
  title: Text;
  submit?: Text;
  close: Text;
  private_metadata?: string;
  blocks: Block[];
}

/** A request type the front door offers: the rule's name, its handler and the handler's one-line description. */
export interface RequestType {
  rule: string;
  handler: string;
  description: string;
}

const plain = (text: string, max: number): Text => ({ type: 'plain_text', text: cut(text, max) });
const cut = (text: string, max: number) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);
const option = (text: string, value: string) => ({ text: plain(text, 75), value });

/** The first modal: a select of the request types open to the requester (or a note that none is). */
export function chooserModal(types: readonly RequestType[]): ModalView {
  const blocks: Block[] =
    types.length === 0
      ? [{ type: 'section', text: { type: 'mrkdwn', text: 'No request type is open to you in Slack yet. Ask the platform team, or file a ticket in Jira.', verbatim: true } }]
      : [
          { type: 'section', text: plain('What do you need? Choose a request type; its form opens next.', 2000) },
          {
            type: 'actions',
            block_id: REQUEST_TYPE_ACTION,
            elements: [{ type: 'static_select', action_id: REQUEST_TYPE_ACTION, placeholder: plain('Request type', 150), options: types.slice(0, 100).map((t) => option(t.rule, t.rule)) }],
          },
          ...types.slice(0, 20).map((t) => ({ type: 'context', elements: [plain(`${t.rule}: ${t.description}`, 2000)] })),
        ];
  return { type: 'modal', callback_id: CHOOSER_CALLBACK, title: plain('deflect', 24), close: plain('Cancel', 24), blocks };
}

/**
 * The request form of one request type. `private_metadata` carries the rule name (checked again on submission).
 * @param fields from `formFieldsOf(handler.input)`.
 */
export function requestModal(type: RequestType, fields: readonly FormField[]): ModalView {
  const blocks: Block[] = [
    { type: 'context', elements: [plain(type.description, 2000)] },
    {
      type: 'input',
      block_id: SUMMARY_BLOCK,
      optional: true,
      label: plain('Summary', 2000),
      hint: plain(`The ticket's title. Default: ${defaultSummary(type)}`, 2000),
      element: { type: 'plain_text_input', action_id: 'value', max_length: 255 },
    },
    ...fields.map(inputBlock),
  ];
  return {
    type: 'modal',
    callback_id: REQUEST_CALLBACK,
    title: plain(type.rule, 24),
    submit: plain('File request', 24),
    close: plain('Cancel', 24),
    private_metadata: JSON.stringify({ rule: type.rule }),
    blocks,
  };
}

/** The ticket summary when the requester leaves it empty. */
export const defaultSummary = (type: RequestType) => `${type.rule} request (from Slack)`;

function inputBlock(field: FormField): Block {
  const base = { type: 'input', block_id: field.key, optional: field.optional, label: plain(field.label, 2000), ...(field.description ? { hint: plain(field.description, 2000) } : {}) };
  if (field.kind === 'enum' && field.options) {
    const initial = field.defaultValue && field.options.includes(field.defaultValue) ? { initial_option: option(field.defaultValue, field.defaultValue) } : {};
    return { ...base, element: { type: 'static_select', action_id: 'value', options: field.options.slice(0, 100).map((o) => option(o, o)), ...initial } };
  }
  if (field.kind === 'boolean') {
    const box = option(field.label, 'true');
    return { ...base, element: { type: 'checkboxes', action_id: 'value', options: [box], ...(field.defaultValue === 'true' ? { initial_options: [box] } : {}) } };
  }
  const multiline = /reason|description|details|why/i.test(field.key);
  return { ...base, element: { type: 'plain_text_input', action_id: 'value', multiline, max_length: 3000, ...(field.defaultValue ? { initial_value: field.defaultValue } : {}) } };
}

/** One element's submitted state (`view.state.values[block][action]`), as far as deflect reads it. */
interface ElementState {
  type?: string;
  value?: string | null;
  selected_option?: { value?: string } | null;
  selected_options?: Array<{ value?: string }> | null;
}

/**
 * Reads a submitted request form: the summary and each field's value as text (enum: the chosen value; boolean:
 * `true`/`false`; empty or unset: left out), in field order.
 */
export function readRequestValues(state: unknown, fields: readonly FormField[]): { summary: string | null; values: Array<[string, string]> } {
  const values = (state as { values?: Record<string, Record<string, ElementState>> } | null)?.values ?? {};
  const read = (block: string): string | null => {
    const element = values[block]?.value;
    if (!element) return null;
    if (element.type === 'checkboxes') return (element.selected_options ?? []).some((o) => o.value === 'true') ? 'true' : 'false';
    const text = element.type === 'static_select' ? element.selected_option?.value : element.value;
    return typeof text === 'string' && text.trim() !== '' ? text.trim() : null;
  };
  const pairs: Array<[string, string]> = [];
  for (const field of fields) {
    const value = read(field.key);
    if (value !== null) pairs.push([field.key, value]);
  }
  return { summary: read(SUMMARY_BLOCK), values: pairs };
}

/**
 * The `response_action: errors` answer for input problems: one message per block, the schema's own message after the
 * field label (`Repository "x" is not valid: must look like org/name`). A problem on a field that has no block in the
 * form (a ticket field, or a form-wide `''`) goes under the first block.
 */
export function modalErrors(problems: ReadonlyArray<{ field: string; message: string }>, fields: readonly FormField[]): { response_action: 'errors'; errors: Record<string, string> } {
  const blocks = new Map(fields.map((f) => [f.key, f.label]));
  const errors: Record<string, string> = {};
  for (const problem of problems) {
    const block = blocks.has(problem.field) ? problem.field : (fields[0]?.key ?? SUMMARY_BLOCK);
    const text = `${blocks.get(problem.field) ?? (problem.field || 'Form')} ${problem.message}`.replace(/`/g, '');
    errors[block] = cut(errors[block] ? `${errors[block]}; ${text}` : text, 300);
  }
  return { response_action: 'errors', errors };
}

/** Approve / Deny buttons for one run waiting for approval (`value` = run id). */
export function approvalBlocks(text: string, runId: number): Block[] {
  return [
    { type: 'section', text: plain(text, 3000) },
    {
      type: 'actions',
      block_id: `deflect_approval_${runId}`,
      elements: [
        { type: 'button', action_id: APPROVE_ACTION, style: 'primary', text: plain('Approve', 75), value: String(runId) },
        { type: 'button', action_id: DENY_ACTION, style: 'danger', text: plain('Deny', 75), value: String(runId) },
      ],
    },
  ];
}
