/**
 * A rule's `approval` block (rules file) and its `when` condition: which runs of the rule wait for a person's
 * `/approve` before the handler acts. Pure: no I/O. Decision record: docs/decisions/009-approvals.md.
 *
 * ```yaml
 * approval:
 *   approvers: [5b10a2844c20165700ede21g, alice@acme.com, octocat]   # tracker account ids, logins or emails
 *   when: { field: permission, in: [write, maintain] }   # optional; see below
 *   expiresAfter: 7d                                     # optional, default 7d (s, m, h, d, w)
 * ```
 * `when` is declarative, never code: `always`, or `{ field, in: [...] }` / `{ field, notIn: [...] }` /
 * `{ field, equals: value }` on the handler's parsed input (values compared as case-insensitive strings). Without
 * `when`, the handler decides by calling `ctx.requireApproval(reason)` (e.g. grant-repo-access's
 * `maxRoleWithoutApproval` option).
 */
import { z } from 'zod';
import { durationSchema } from '../duration.js';

/** The default wait for a decision, ms (7 days). */
export const DEFAULT_APPROVAL_EXPIRY_MS = 7 * 86_400_000;
/** Longest allowed wait, ms (90 days). */
const MAX_APPROVAL_EXPIRY_MS = 90 * 86_400_000;

const durationMs = durationSchema().refine((ms) => ms <= MAX_APPROVAL_EXPIRY_MS, 'must be at most 90d');

const scalar = z.union([z.string().max(200), z.number(), z.boolean()]);
const fieldName = z.string().trim().regex(/^[A-Za-z][A-Za-z0-9_]{0,63}$/, 'must be an input field name such as `permission`');

/** The `when` condition: `always` or one comparison on one input field. */
export const approvalConditionSchema = z.union([
  z.literal('always'),
  z.object({ field: fieldName, in: z.array(scalar).min(1).max(50) }).strict(),
  z.object({ field: fieldName, notIn: z.array(scalar).min(1).max(50) }).strict(),
  z.object({ field: fieldName, equals: scalar }).strict(),
]);
export type ApprovalCondition = z.output<typeof approvalConditionSchema>;

/** The `approval` block of a rule, as the rules file's zod schema validates it. */
export const approvalSchema = z
  .object({
    approvers: z.array(z.string().trim().min(1).max(200)).min(1).max(100),
    when: approvalConditionSchema.optional(),
    expiresAfter: durationMs.optional(),
  })
  .strict();

/** A rule's validated approval settings: approvers lower-cased for matching, expiry in ms. */
export interface ApprovalSettings {
  approvers: string[];
  /** null: the handler decides (`ctx.requireApproval`). */
  when: ApprovalCondition | null;
  expiresAfterMs: number;
}

/** The settings of a parsed `approval` block. */
export function toApprovalSettings(raw: z.output<typeof approvalSchema>): ApprovalSettings {
  return { approvers: raw.approvers.map((a) => a.toLowerCase()), when: raw.when ?? null, expiresAfterMs: raw.expiresAfter ?? DEFAULT_APPROVAL_EXPIRY_MS };
}

/**
 * Whether `input` (the handler's parsed input) meets the condition. A missing field never meets `in`/`equals` and
 * always meets `notIn`. Returns a sentence for the approval comment when it does, else null.
 */
export function conditionRequiresApproval(condition: ApprovalCondition | null, input: unknown): string | null {
  if (condition === null) return null;
  if (condition === 'always') return 'every request of this rule needs approval';
  const value = input !== null && typeof input === 'object' ? (input as Record<string, unknown>)[condition.field] : undefined;
  const text = value === undefined || value === null ? null : String(value).toLowerCase();
  const list = (values: ReadonlyArray<string | number | boolean>) => values.map((v) => String(v).toLowerCase());
  if ('in' in condition) return text !== null && list(condition.in).includes(text) ? `${condition.field} is ${text}` : null;
  if ('notIn' in condition) return text === null || !list(condition.notIn).includes(text) ? `${condition.field} is ${text ?? 'not given'}` : null;
  return text !== null && text === String(condition.equals).toLowerCase() ? `${condition.field} is ${text}` : null;
}
