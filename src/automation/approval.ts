/**
 * What a handler sees of approvals: {@link ApprovalGrant} (`ctx.approval`) and {@link ApprovalRequiredError}, thrown by
 * `ctx.requireApproval(reason)` and caught by the run executor, which then asks the rule's approvers and parks the
 * run as `awaiting-approval` (`src/worker/approval-gate.ts`). Decision record: docs/decisions/009-approvals.md.
 */

/** Who approved a run (their tracker account id, login or email, as their comment carried it) and when, epoch ms. */
export interface ApprovalGrant {
  by: string;
  at: number;
}

/** Thrown by `ctx.requireApproval` when the run is not approved yet; `reason` is quoted in the approval request. */
export class ApprovalRequiredError extends Error {
  constructor(readonly reason: string) {
    super(`approval required: ${reason}`);
    this.name = 'ApprovalRequiredError';
  }
}

/** `ctx.requireApproval` for a run approved by `grant` (null: not approved, so it throws). */
export function requireApprovalFor(grant: ApprovalGrant | null): (reason: string) => void {
  return (reason: string) => {
    if (!grant) throw new ApprovalRequiredError(String(reason).slice(0, 500));
  };
}
