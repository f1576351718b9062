/**
 * `ctx.notApplied(reason, steps)`: the one way to end a run that validated a request but did not carry it out (no
 * credentials for the system, a step deflect leaves to people, a request not automated yet). It writes the standard
 * comment and returns the outcome the run records, `applied: false` (the report then does not count the ticket as
 * automated), and it never resolves the ticket: a person does that after applying the steps.
 *
 * The comment (Markdown; `reason` and `steps` are {@link Markdown} or literal text):
 * ```
 * This request is valid and allowed by the rules, but it was **not applied**: <reason>
 *
 * A platform engineer needs to apply it:
 *
 * - [ ] <step>            (one per step)
 * - [ ] Resolve this ticket
 *
 * <note>                  (optional)
 *
 * Request id: `<idempotency key>`
 * ```
 *
 * @example
 * ```ts
 * if (!api) return ctx.notApplied(md`deflect has no GitHub token (\`GITHUB_TOKEN\` is not set).`,
 *   [md`Add \`@${user}\` to \`${repository}\` with the **${permission}** role`], { summary: 'GITHUB_TOKEN not set' });
 * // → comment posted; returns { summary: 'validated; not applied: GITHUB_TOKEN not set', applied: false }
 * ```
 */
import { md, type Markdown } from '../jira/comment-markdown.js';
import type { HandlerTracker } from './tracker.js';

/** Options of {@link NotApplied}. */
export interface NotAppliedOptions {
  /** One plain-text line for the run's summary, after `validated; not applied: ` (default: the reason's text). */
  summary?: string;
  /** The line above the steps (default `A platform engineer needs to apply it:`). */
  heading?: Markdown | string;
  /** Paragraphs after the steps and before the request id (e.g. what the reporter can do to get it automated). */
  note?: Markdown | string | Array<Markdown | string>;
}

/** What a handler's `run` returns after {@link NotApplied}: the run succeeds, not counted as automated. */
export interface NotAppliedResult {
  summary: string;
  applied: false;
}

/**
 * Writes the "valid but not applied" comment (see module doc) and returns the run's outcome. Resolves once the comment
 * is recorded (planned in dry run).
 * @throws what `ctx.tracker.comment` throws (a transient Jira error retries the run).
 */
export type NotApplied = (reason: Markdown | string, steps: ReadonlyArray<Markdown | string>, options?: NotAppliedOptions) => Promise<NotAppliedResult>;

/** Builds `ctx.notApplied` for one run: comments through `tracker`, quoting `idempotencyKey` as the request id. */
export function createNotApplied(tracker: Pick<HandlerTracker, 'comment'>, idempotencyKey: string): NotApplied {
  return async (reason, steps, options = {}) => {
    const notes = options.note === undefined ? [] : Array.isArray(options.note) ? options.note : [options.note];
    await tracker.comment(
      md.join([
        md`This request is valid and allowed by the rules, but it was **not applied**: ${asMarkdown(reason)}`,
        md``,
        asMarkdown(options.heading ?? md`A platform engineer needs to apply it:`),
        md``,
        ...steps.map((step) => md`- [ ] ${asMarkdown(step)}`),
        md`- [ ] Resolve this ticket`,
        ...notes.flatMap((note) => [md``, asMarkdown(note)]),
        md``,
        md`Request id: \`${idempotencyKey}\``,
      ]),
    );
    const summary = (options.summary ?? String(reason)).replace(/\s+/g, ' ').trim();
    return { summary: `validated; not applied: ${summary}`, applied: false };
  };
}

/** Markdown stays Markdown; anything else is literal text (a plain string never becomes markup). */
function asMarkdown(part: Markdown | string): Markdown {
  return typeof part === 'string' ? md`${part}` : part;
}
