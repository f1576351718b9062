/**
 * The {@link TicketActions} a handler gets on any tracker, plus {@link RecordedActions.act} for calls to other systems: every call is an
 * *action* row in the audit trail, applied effectively once.
 *
 * For each call: the action's idempotency key is `<run idempotency key>:<seq>:<kind>` (seq counts calls within
 * the run, from 1, so a retry of the same run produces the same keys in the same order).
 * - An action already `applied` (an earlier attempt got that far) is skipped.
 * - An action whose earlier attempt has an unknown outcome (row `started`: the process died during the call; or
 *   `failed`: e.g. a timeout, after which the tracker may still apply the write) is first **checked in the tracker**
 *   (the adapter's {@link TicketOps}): a comment is looked up by the idempotency key it was posted with (Jira: the
 *   comment property `deflect.action`; GitHub, Linear: a hidden marker), a transition by the ticket's current status.
 *   Found → recorded `applied` (`response.verifiedInTracker: true`) and not
 *   sent again. Label edits and assignment are idempotent (set semantics) and are simply re-sent.
 * - Otherwise the row is written `started` **before** the request and finished `applied` / `failed` after it.
 * - In a dry run the row is written `planned` and nothing is sent.
 * - Loop guard: when the ticket already had `maxActionsPerHour` actions in the last hour, the call throws
 *   {@link LoopGuardError} (permanent) instead.
 * - Once `signal` is aborted (handler timeout, shutdown), no new action starts: the call throws the abort reason.
 *
 * `act(kind, request, call)` gives a call to another system (GitHub, a token service, ...) the same treatment: same key
 * scheme and `seq` counter (shared with the tracker actions, so the order of all actions is one sequence), skipped when
 * `applied` (returning the response recorded then), `planned` in dry run, the loop guard, and no start after abort.
 * There is no way to ask an arbitrary system whether an unknown outcome happened, so a `started`/`failed` row is simply
 * called again: the call must be idempotent, and it receives the action's idempotency key to pass on to the system.
 *
 * Decision record: docs/decisions/002-effectively-once-actions.md.
 */
import type { Logger } from 'pino';
import { countAction } from '../metrics/run-metrics.js';
import type { Store } from '../db/store.js';
import type { TicketActions, TicketActionsOptions, TicketOps } from './tracker.js';

/** One hour, ms: the loop guard's window. */
const HOUR_MS = 3_600_000;

/** Options of {@link recordTicketActions}: the adapter-neutral options plus the adapter's calls bound to the ticket (null = nothing is sent: dry run). */
export type RecordTicketActionsOptions = Omit<TicketActionsOptions<unknown>, 'client'> & { ops: TicketOps | null };

/** An action kind for another system: `<system>.<operation>`, lower case, e.g. `github.add_collaborator`. */
const EXTERNAL_KIND = /^[a-z][a-z0-9-]*(\.[a-z][a-z0-9_-]*)+$/;

/**
 * Performs `call` as a recorded action of kind `kind` (see {@link RecordedActions.act}).
 * @typeParam T the call's result; keep it plain JSON data (it is stored on the action and returned on a later attempt).
 */
export type RecordedCall = <T>(kind: string, request: Record<string, unknown>, call: (idempotencyKey: string) => Promise<T>) => Promise<T | undefined>;

/** {@link TicketActions} plus what the run executor needs to finish an attempt cleanly. */
export interface RecordedActions extends TicketActions {
  /**
   * Calls another system as a recorded action: a row of `kind` (`<system>.<operation>`) with `request` is written
   * `started` before `call` and finished `applied` (with the call's result as the response) or `failed` after it.
   * - Already `applied` by an earlier attempt → `call` is not made; the result recorded then is returned (JSON round trip).
   * - Dry run → recorded `planned`, `call` is not made, returns undefined.
   * - Earlier attempt with an unknown outcome (`started` or `failed`) → `call` is made again: it must be idempotent.
   *   It receives the action's idempotency key (`<run key>:<seq>:<kind>`) to pass to systems that deduplicate.
   * @throws what `call` throws (after recording `failed`; an error with `transient: true` retries the run),
   *   {@link LoopGuardError}, the abort reason of the run's signal, or TypeError for a malformed `kind`.
   */
  act: RecordedCall;
  /** Resolves once no call of this attempt (tracker or `act`) is in flight (so a timed-out attempt's last call has an outcome). */
  whenIdle(): Promise<void>;
  /** Whether the last failed action left an unknown outcome in the tracker (timeout, connection reset, 5xx). */
  readonly lastFailureAmbiguous: boolean;
}

/**
 * The per-ticket loop guard refused an action: the ticket had too many automated actions in the last hour.
 * Permanent: the run is `failed` (re-run it with `deflect runs retry <id>` once the loop is understood).
 */
export class LoopGuardError extends Error {
  constructor(ticketKey: string, count: number, max: number) {
    super(
      `loop guard: ${ticketKey} already had ${count} automated actions in the last hour (DEFLECT_MAX_ACTIONS_PER_HOUR=${max}); ` +
        'action not sent — check for a rule or handler that re-triggers itself',
    );
    this.name = 'LoopGuardError';
  }
}

/**
 * Builds the ticket-bound recorded actions (and `act`) of one run attempt over an adapter's {@link TicketOps}.
 * @throws from each method: the tracker's request error of a failed call (after recording it as `failed`; for `act`,
 *   whatever its call threw),
 *   {@link LoopGuardError}, or the abort reason of `signal`.
 */
export function recordTicketActions(options: RecordTicketActionsOptions): RecordedActions {
  const { db, ops: api, runId, runKey, ticketKey, dryRun, log, signal } = options;
  const now = options.now ?? Date.now;
  let seq = 0;
  let inFlight: Promise<unknown> = Promise.resolve();
  let lastFailureAmbiguous = false;

  /** Runs `work` as the attempt's in-flight call, so {@link RecordedActions.whenIdle} can wait for it. */
  function track<T>(work: Promise<T>): Promise<T> {
    inFlight = work.catch(() => undefined);
    return work;
  }

  const throwIfAborted = () => {
    if (signal?.aborted) throw signal.reason instanceof Error ? signal.reason : new Error('run aborted');
  };

  /**
   * Records and performs one action. `call` gets the tracker's calls (an {@link RecordedActions.act} call ignores them) and the
   * action's idempotency key. Resolves with the call's result, the result recorded by the attempt
   * that applied it, or undefined when planned or verified in the tracker.
   */
  async function perform(
    kind: string,
    request: Record<string, unknown>,
    call: (api: TicketOps, idempotencyKey: string) => Promise<unknown>,
    verify?: (api: TicketOps, idempotencyKey: string) => Promise<Record<string, unknown> | null>,
  ): Promise<unknown> {
    seq += 1;
    const actionSeq = seq;
    const idempotencyKey = `${runKey}:${actionSeq}:${kind}`;
    const previous = await db.findAction(idempotencyKey);
    if (previous?.status === 'applied') {
      log.info({ action: kind, idempotencyKey }, 'action already applied by an earlier attempt; skipped');
      countAction(kind, 'already_applied');
      return previous.response === null ? undefined : (JSON.parse(previous.response) as unknown);
    }
    throwIfAborted();
    if (dryRun || api === null) {
      await db.beginAction({ runId, seq: actionSeq, kind, ticketKey, idempotencyKey, request, status: 'planned' });
      log.info({ action: kind, request }, 'dry run: action planned, nothing sent');
      countAction(kind, 'planned');
      return undefined;
    }
    const max = options.maxActionsPerHour ?? 0;
    if (max > 0) {
      const recent = await db.countRecentActions(ticketKey, now() - HOUR_MS, idempotencyKey);
      if (recent >= max) throw new LoopGuardError(ticketKey, recent, max);
    }
    if (previous && verify) {
      // The earlier attempt may have reached the tracker (crash or timeout mid-call): ask it before sending again.
      const found = await track(verify(api, idempotencyKey));
      if (found) {
        await db.recordVerifiedAction({ runId, seq: actionSeq, kind, ticketKey, idempotencyKey, request, response: { ...found, verifiedInTracker: true } });
        log.warn({ action: kind, idempotencyKey, previousStatus: previous.status }, 'action found already applied in the tracker; recorded, not sent again');
        countAction(kind, 'verified');
        return undefined;
      }
      throwIfAborted();
    }
    if (previous && !verify) log.warn({ action: kind, idempotencyKey, previousStatus: previous.status }, 'earlier attempt of this action has an unknown outcome; calling again');
    const id = await db.beginAction({ runId, seq: actionSeq, kind, ticketKey, idempotencyKey, request, status: 'started' });
    try {
      const response = await track(call(api, idempotencyKey));
      await db.finishAction(id, { status: 'applied', response: response ?? undefined });
      log.info({ action: kind }, 'action applied');
      countAction(kind, 'applied');
      return response;
    } catch (error) {
      // No answer (timeout, reset) or a 5xx: the tracker may still have applied the write, or may yet apply it.
      // (Another system's call is simply made again on the retry, so it needs no extra wait.)
      lastFailureAmbiguous = !EXTERNAL_KIND.test(kind) && api.isAmbiguous(error);
      await db.finishAction(id, { status: 'failed', error: error instanceof Error ? error.message : String(error) });
      countAction(kind, 'failed');
      throw error;
    }
  }

  const trackerCall = async (...args: Parameters<typeof perform>): Promise<void> => {
    await perform(...args);
  };

  return {
    act: async <T>(kind: string, request: Record<string, unknown>, call: (idempotencyKey: string) => Promise<T>): Promise<T | undefined> => {
      if (!EXTERNAL_KIND.test(kind)) {
        throw new TypeError(`action kind "${kind}" must look like <system>.<operation>, lower case (for example github.add_collaborator)`);
      }
      if (typeof call !== 'function') throw new TypeError(`act("${kind}"): the third argument must be a function that makes the call`);
      return (await perform(kind, request, (_api, key) => call(key))) as T | undefined;
    },
    comment: (body) =>
      trackerCall(
        'comment',
        { markdown: String(body) },
        (ops, key) => ops.comment(body, { idempotencyKey: key, runId }),
        (ops, key) => ops.findComment(key),
      ),
    transition: (statusName) =>
      trackerCall(
        'transition',
        { status: statusName },
        (ops) => ops.transition(statusName),
        async (ops) => {
          const current = await ops.currentStatus();
          return current?.trim().toLowerCase() === statusName.trim().toLowerCase() ? { alreadyIn: current } : null;
        },
      ),
    assign: (accountId) => trackerCall('assign', { accountId }, (ops) => ops.assign(accountId)),
    addLabels: (...labels) => trackerCall('add_labels', { labels }, (ops) => ops.editLabels(labels, [])),
    removeLabels: (...labels) => trackerCall('remove_labels', { labels }, (ops) => ops.editLabels([], labels)),
    whenIdle: () => inFlight.then(() => undefined),
    get lastFailureAmbiguous() {
      return lastFailureAmbiguous;
    },
  };
}
