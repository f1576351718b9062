/**
 * The {@link JiraActions} a handler gets, plus {@link RecordedActions.act} for calls to other systems: every call is an
 * *action* row in the audit trail, applied effectively once.
 *
 * For each call: the action's idempotency key is `<run idempotency key>:<seq>:<kind>` (seq counts calls within
 * the run, from 1, so a retry of the same run produces the same keys in the same order).
 * - An action already `applied` (an earlier attempt got that far) is skipped.
 * - An action whose earlier attempt has an unknown outcome (row `started`: the process died during the call; or
 *   `failed`: e.g. a timeout, after which Jira may still apply the write) is first **checked in Jira**: a comment is
 *   looked up by the comment property {@link ACTION_PROPERTY_KEY} carrying its idempotency key (every comment is
 *   posted with it), a transition by the issue's current status. Found → recorded `applied` (`response.verifiedInJira`)
 *   and not sent again. Label edits and assignment are idempotent in Jira (set semantics) and are simply re-sent.
 * - Otherwise the row is written `started` **before** the request and finished `applied` / `failed` after it.
 * - In a dry run the row is written `planned` and nothing is sent.
 * - Loop guard: when the ticket already had `maxActionsPerHour` actions in the last hour, the call throws
 *   {@link LoopGuardError} (permanent) instead.
 * - Once `signal` is aborted (handler timeout, shutdown), no new action starts: the call throws the abort reason.
 *
 * `act(kind, request, call)` gives a call to another system (GitHub, a token service, ...) the same treatment: same key
 * scheme and `seq` counter (shared with the Jira actions, so the order of all actions is one sequence), skipped when
 * `applied` (returning the response recorded then), `planned` in dry run, the loop guard, and no start after abort.
 * There is no way to ask an arbitrary system whether an unknown outcome happened, so a `started`/`failed` row is simply
 * called again: the call must be idempotent, and it receives the action's idempotency key to pass on to the system.
 *
 * Decision record: docs/decisions/002-effectively-once-actions.md.
 */
import type { Logger } from 'pino';
import { beginAction, countRecentActions, findAction, finishAction, recordVerifiedAction } from '../db/actions.js';
import type { Db } from '../db/client.js';
import { JiraRequestError, type JiraActions, type JiraApi } from './jira-actions.js';
import type { TicketActionsOptions } from '../trackers/tracker.js';
import { commentToAdf } from './comment-markdown.js';

/** Comment entity property deflect attaches to each comment it posts: `{ idempotencyKey, runId }`. */
export const ACTION_PROPERTY_KEY = 'deflect.action';

/** One hour, ms: the loop guard's window. */
const HOUR_MS = 3_600_000;

/** Options of {@link createRecordedActions}: the adapter-neutral {@link TicketActionsOptions} with Jira's client. */
export type RecordedActionsOptions = TicketActionsOptions<JiraApi>;

/** An action kind for another system: `<system>.<operation>`, lower case, e.g. `github.add_collaborator`. */
const EXTERNAL_KIND = /^[a-z][a-z0-9-]*(\.[a-z][a-z0-9_-]*)+$/;

/**
 * Performs `call` as a recorded action of kind `kind` (see {@link RecordedActions.act}).
 * @typeParam T the call's result; keep it plain JSON data (it is stored on the action and returned on a later attempt).
 */
export type RecordedCall = <T>(kind: string, request: Record<string, unknown>, call: (idempotencyKey: string) => Promise<T>) => Promise<T | undefined>;

/** {@link JiraActions} plus what the run executor needs to finish an attempt cleanly. */
export interface RecordedActions extends JiraActions {
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
  /** Resolves once no call of this attempt (Jira or `act`) is in flight (so a timed-out attempt's last call has an outcome). */
  whenIdle(): Promise<void>;
  /** Whether the last failed action left an unknown outcome in Jira (timeout, connection reset, 5xx). */
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
 * Builds the ticket-bound Jira actions (and `act`) for one run attempt.
 * @throws from each method: the {@link JiraRequestError} of a failed call (after recording it as `failed`; for `act`,
 *   whatever its call threw),
 *   {@link LoopGuardError}, or the abort reason of `signal`.
 */
export function createRecordedActions(options: RecordedActionsOptions): RecordedActions {
  const { db, client: api, runId, runKey, ticketKey, dryRun, log, signal } = options;
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
   * Records and performs one action. `call` gets the Jira API (an {@link RecordedActions.act} call ignores it) and the
   * action's idempotency key. Resolves with the call's result, the result recorded by the attempt
   * that applied it, or undefined when planned or verified in Jira.
   */
  async function perform(
    kind: string,
    request: Record<string, unknown>,
    call: (api: JiraApi, idempotencyKey: string) => Promise<unknown>,
    verify?: (api: JiraApi, idempotencyKey: string) => Promise<Record<string, unknown> | null>,
  ): Promise<unknown> {
    seq += 1;
    const actionSeq = seq;
    const idempotencyKey = `${runKey}:${actionSeq}:${kind}`;
    const previous = findAction(db, idempotencyKey);
    if (previous?.status === 'applied') {
      log.info({ action: kind, idempotencyKey }, 'action already applied by an earlier attempt; skipped');
      return previous.response === null ? undefined : (JSON.parse(previous.response) as unknown);
    }
    throwIfAborted();
    if (dryRun || api === null) {
      beginAction(db, { runId, seq: actionSeq, kind, ticketKey, idempotencyKey, request, status: 'planned' });
      log.info({ action: kind, request }, 'dry run: action planned, nothing sent');
      return undefined;
    }
    const max = options.maxActionsPerHour ?? 0;
    if (max > 0) {
      const recent = countRecentActions(db, ticketKey, now() - HOUR_MS, idempotencyKey);
      if (recent >= max) throw new LoopGuardError(ticketKey, recent, max);
    }
    if (previous && verify) {
      // The earlier attempt may have reached Jira (crash or timeout mid-call): ask Jira before sending it again.
      const found = await track(verify(api, idempotencyKey));
      if (found) {
        recordVerifiedAction(db, { runId, seq: actionSeq, kind, ticketKey, idempotencyKey, request, response: { ...found, verifiedInJira: true } });
        log.warn({ action: kind, idempotencyKey, previousStatus: previous.status }, 'action found already applied in Jira; recorded, not sent again');
        return undefined;
      }
      throwIfAborted();
    }
    if (previous && !verify) log.warn({ action: kind, idempotencyKey, previousStatus: previous.status }, 'earlier attempt of this action has an unknown outcome; calling again');
    const id = beginAction(db, { runId, seq: actionSeq, kind, ticketKey, idempotencyKey, request, status: 'started' });
    try {
      const response = await track(call(api, idempotencyKey));
      finishAction(db, id, { status: 'applied', response: response ?? undefined });
      log.info({ action: kind }, 'action applied');
      return response;
    } catch (error) {
      // No answer (timeout, reset) or a 5xx: Jira may still have applied the write, or may yet apply it. (Another
      // system's call is simply made again on the retry, so it needs no extra wait.)
      lastFailureAmbiguous =
        !EXTERNAL_KIND.test(kind) && error instanceof JiraRequestError && error.transient && (error.status === null || error.status >= 500);
      finishAction(db, id, { status: 'failed', error: error instanceof Error ? error.message : String(error) });
      throw error;
    }
  }

  const jiraCall = async (...args: Parameters<typeof perform>): Promise<void> => {
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
      jiraCall(
        'comment',
        { markdown: String(body) },
        (jira, key) => jira.addComment(ticketKey, commentToAdf(body), [{ key: ACTION_PROPERTY_KEY, value: { idempotencyKey: key, runId } }]),
        async (jira, key) => {
          const comments = await jira.listComments(ticketKey);
          const match = comments.find((c) =>
            c.properties.some((p) => p.key === ACTION_PROPERTY_KEY && (p.value as { idempotencyKey?: unknown } | null)?.idempotencyKey === key),
          );
          return match ? { id: match.id } : null;
        },
      ),
    transition: (statusName) =>
      jiraCall(
        'transition',
        { status: statusName },
        async (jira) => {
          const wanted = statusName.trim().toLowerCase();
          const transitions = await jira.getTransitions(ticketKey);
          const match =
            transitions.find((t) => t.toStatus?.toLowerCase() === wanted) ?? transitions.find((t) => t.name.toLowerCase() === wanted);
          if (!match) {
            const issue = await jira.getIssue(ticketKey);
            const current = (issue.fields.status as { name?: string } | undefined)?.name;
            if (current?.toLowerCase() === wanted) return { alreadyIn: current };
            const available = transitions.map((t) => `${t.name} → ${t.toStatus ?? '?'}`).join(', ') || 'none';
            throw new Error(`no transition to "${statusName}" from status "${current ?? '?'}" on ${ticketKey} (available: ${available})`);
          }
          await jira.doTransition(ticketKey, match.id);
          return { transitionId: match.id, name: match.name };
        },
        async (jira) => {
          const issue = await jira.getIssue(ticketKey);
          const current = (issue.fields.status as { name?: string } | undefined)?.name;
          return current?.trim().toLowerCase() === statusName.trim().toLowerCase() ? { alreadyIn: current } : null;
        },
      ),
    assign: (accountId) => jiraCall('assign', { accountId }, (jira) => jira.assignIssue(ticketKey, accountId)),
    addLabels: (...labels) => jiraCall('add_labels', { labels }, (jira) => jira.editLabels(ticketKey, labels, [])),
    removeLabels: (...labels) => jiraCall('remove_labels', { labels }, (jira) => jira.editLabels(ticketKey, [], labels)),
    whenIdle: () => inFlight.then(() => undefined),
    get lastFailureAmbiguous() {
      return lastFailureAmbiguous;
    },
  };
}
