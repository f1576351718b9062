/**
 * (Slack, issue 15) The messages deflect sends in Slack, as Block Kit: ticket text (summaries, reasons, form values)
 * is always a `plain_text` object, so it is never read as Slack markup, links or mentions; the notification fallback
 * `text` is escaped (https://api.slack.com/reference/surfaces/formatting#escaping).
 */
import type { Block } from './slack-modal.js';

/** One section of plain text (at most 3,000 characters, Slack's limit for a section's text). */
export function plainMessage(text: string): Block[] {
  return [{ type: 'section', text: { type: 'plain_text', text: text.length > 3000 ? `${text.slice(0, 2999)}…` : text, emoji: false } }];
}
