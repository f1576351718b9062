/**
 * Answers a "how do I…?" request with a runbook the platform team wrote, and resolves the ticket: the quickest first
 * automation (no integration, no credentials besides the tracker's, no form for the reporter to fill in).
 *
 * Rule:
 * ```yaml
 *   - name: vpn-how-to
 *     labels: [how-to-vpn]
 *     handler: answer-with-runbook
 *     with: { runbook: runbooks/vpn-access.md }   # relative to the rules file, inside its folder
 *     feedback: true                              # optional: invite /thanks or /reopen (README "Verified resolution")
 * ```
 * Options (`with:`): `runbook` (required): a Markdown file (`.md`), relative to the rules file's folder and inside it
 * (no `..` out of it, no absolute path, symlinks resolved), at most {@link MAX_RUNBOOK_BYTES} bytes of UTF-8;
 * `status` (default `Done`): the status the ticket is resolved to.
 *
 * When it is read: the path is resolved and the file checked (exists, inside the folder, size, UTF-8) when the rules
 * file loads, so a typo stops start-up or a reload with `path:line:col`; the text itself is read again at run time,
 * so a corrected runbook applies to the next ticket without a reload. The run's summary names the file and the
 * SHA-256 of the text it posted, so the audit shows which version a reporter got.
 *
 * The runbook is trusted Markdown (headings, lists, code, links are kept: `md.trusted`); the reporter's name around it
 * is data (`md`). A reopen, a re-file or a `/reopen` comment within `DEFLECT_VERIFY_WINDOW` is the signal that the
 * runbook did not answer the question (it counts against the handler's verified rate).
 */
import { createHash } from 'node:crypto';
import { readFileSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import { z } from 'zod';
import { defineHandler, OptionsError } from '../src/automation/define-handler.js';
import { md } from '../src/jira/comment-markdown.js';

/** Largest runbook, bytes: a Jira comment holds at most 32,767 characters, and the greeting and footer need room. */
export const MAX_RUNBOOK_BYTES = 24_000;

const options = z
  .object({
    runbook: z
      .string()
      .trim()
      .min(1)
      .max(300, 'must be at most 300 characters')
      .regex(/\.md$/i, 'must be a Markdown file ending in `.md`, for example `runbooks/vpn-access.md`')
      .refine((path) => !isAbsolute(path), 'must be relative to the rules file, for example `runbooks/vpn-access.md`')
      .describe('The runbook to post: a Markdown file relative to the rules file, inside its folder.'),
    status: z.string().trim().min(1).max(100).default('Done').describe('The status the ticket is resolved to (default `Done`).'),
  })
  .strict();

/** The options a run gets once the rules file loaded them: the parsed ones plus the resolved file and its folder. */
type LoadedOptions = z.output<typeof options> & { runbookFile?: string; runbookRoot?: string };

/** Nothing to parse: a how-to question needs no form. */
const input = z.object({});

/**
 * The runbook's text, after checking it is a file inside `root` (symlinks resolved) of at most {@link MAX_RUNBOOK_BYTES}
 * bytes of valid UTF-8.
 * @throws Error saying which check failed (not transient: the run fails and the audit shows why).
 */
export function readRunbook(file: string, root: string): { text: string; sha256: string; bytes: number } {
  let real: string;
  let realRoot: string;
  try {
    real = realpathSync(file);
    realRoot = realpathSync(root);
  } catch (error) {
    throw new Error(`runbook ${file} cannot be read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, { cause: error });
  }
  if (real !== realRoot && !real.startsWith(realRoot.endsWith(sep) ? realRoot : realRoot + sep)) {
    throw new Error(`runbook ${file} is outside ${realRoot} (the rules file's folder): move it there`);
  }
  const stat = statSync(real);
  if (!stat.isFile()) throw new Error(`runbook ${file} is not a file`);
  if (stat.size > MAX_RUNBOOK_BYTES) throw new Error(`runbook ${file} is ${stat.size} bytes, over the ${MAX_RUNBOOK_BYTES}-byte limit (a tracker comment holds about 32,000 characters): shorten it or link to a page`);
  const bytes = readFileSync(real);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (error) {
    throw new Error(`runbook ${file} is not valid UTF-8`, { cause: error });
  }
  if (text.trim() === '') throw new Error(`runbook ${file} is empty`);
  return { text, sha256: createHash('sha256').update(bytes).digest('hex'), bytes: bytes.length };
}

/** The runbook's title: its first `# heading`, else its file name. */
function titleOf(text: string, file: string): string {
  const heading = /^#{1,3}\s+(.+?)\s*#*\s*$/m.exec(text);
  return heading ? heading[1] : basename(file);
}

export default defineHandler({
  name: 'answer-with-runbook',
  description: 'Answers a "how do I…?" request with the content of a Markdown runbook named in the rule, and resolves the ticket.',
  input,
  options,
  loadOptions(parsed, { rulesPath }): LoadedOptions {
    const root = dirname(resolve(rulesPath));
    const file = resolve(root, parsed.runbook);
    const rel = relative(root, file);
    if (rel.startsWith('..') || isAbsolute(rel)) throw new OptionsError('runbook', `must stay inside ${root} (the rules file's folder); got ${parsed.runbook}`);
    try {
      readRunbook(file, root);
    } catch (error) {
      throw new OptionsError('runbook', (error as Error).message);
    }
    return { ...parsed, runbookFile: file, runbookRoot: root };
  },
  async run(ctx) {
    const opts = ctx.options as LoadedOptions;
    if (!opts.runbookFile || !opts.runbookRoot) throw new Error('answer-with-runbook: the runbook path was not resolved (the rule was not loaded from a rules file)');
    const runbook = readRunbook(opts.runbookFile, opts.runbookRoot);
    const title = titleOf(runbook.text, opts.runbook);
    const hello = ctx.ticket.reporter ? md`Hi ${ctx.ticket.reporter}, ` : md`Hi, `;
    await ctx.tracker.comment(
      md.join([
        md`${hello}this is answered by the platform team's runbook **${title}**:`,
        '',
        md.trusted(runbook.text),
        '',
        md`---`,
        md`_If this does not answer your question, reopen this ticket and a person will pick it up._`,
      ]),
    );
    await ctx.tracker.resolve(opts.status);
    return { summary: `answered with runbook ${opts.runbook} (sha256 ${runbook.sha256.slice(0, 12)}, ${runbook.bytes} bytes); resolved to ${opts.status}` };
  },
});
