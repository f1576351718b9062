/**
 * The cache between routing and the tracker group lookups (decision record 008-rule-scope.md). Routing runs inside
 * SQLite transactions (at receipt: record-and-route's group commit) where no network call may happen, so:
 * - {@link MembershipCache.peek} answers synchronously from the cache, or `undefined` (not looked up yet);
 * - {@link MembershipCache.prefetch} looks the missing answers up in the background (outside any transaction),
 *   deduplicating questions already in flight, and stores them: a member/non-member answer for `ttlMs`, a failed
 *   lookup for at most {@link ERROR_TTL_MS} (long enough for the worker's next turn to route the delivery out of scope
 *   with the reason, short enough that a Jira outage does not keep early adopters out for the whole TTL).
 * Bounded: at most `maxEntries` answers (oldest dropped first). Times are epoch ms from `now()`.
 */
import type { Logger } from 'pino';
import type { MembershipAnswer, MembershipOf, MembershipQuestion } from '../rules/scope.js';
import type { GroupDirectory } from './group-directory.js';

/** Longest reuse of a failed lookup, ms. */
export const ERROR_TTL_MS = 60_000;

export interface MembershipCacheOptions {
  directory: GroupDirectory;
  /** Reuse of a looked-up answer, ms (`DEFLECT_SCOPE_CACHE_TTL`, default 10 min). */
  ttlMs: number;
  /** Called once a prefetch stored its answers (the worker wakes to route the deliveries that waited). */
  onResolved?: () => void;
  logger?: Logger;
  maxEntries?: number;
  now?: () => number;
}

const keyOf = (q: MembershipQuestion) => `${q.tracker}\u0000${q.user.toLowerCase()}\u0000${q.group.toLowerCase()}`;

export class MembershipCache {
  private readonly answers = new Map<string, { answer: MembershipAnswer; expiresAt: number }>();
  private readonly inFlight = new Map<string, Promise<void>>();
  private readonly now: () => number;
  private readonly maxEntries: number;

  constructor(private readonly options: MembershipCacheOptions) {
    this.now = options.now ?? Date.now;
    this.maxEntries = options.maxEntries ?? 10_000;
  }

  /** The cached answer, or undefined (never looked up, or expired). Synchronous, no I/O. */
  peek(question: MembershipQuestion): MembershipAnswer | undefined {
    const key = keyOf(question);
    const hit = this.answers.get(key);
    if (!hit) return undefined;
    if (hit.expiresAt <= this.now()) {
      this.answers.delete(key);
      return undefined;
    }
    return hit.answer;
  }

  /** {@link peek} as the `membershipOf` classify takes. */
  readonly membershipOf: MembershipOf = (question) => this.peek(question);

  /** Whether a lookup of this question is running. */
  pending(question: MembershipQuestion): boolean {
    return this.inFlight.has(keyOf(question));
  }

  /**
   * Looks up the questions that have no cached answer and no lookup in flight, grouped by tracker and user (one Jira
   * or Linear call per user). Never rejects: a failure is stored as `{ error }`. A tracker without a directory entry is
   * answered `{ error: 'no <tracker> credentials ...' }` at once.
   * @returns when every started lookup has stored its answer.
   */
  async prefetch(questions: readonly MembershipQuestion[]): Promise<void> {
    const byUser = new Map<string, MembershipQuestion[]>();
    for (const q of questions) {
      const key = keyOf(q);
      if (this.peek(q) !== undefined || this.inFlight.has(key)) continue;
      const userKey = `${q.tracker}\u0000${q.user}`;
      const list = byUser.get(userKey) ?? [];
      if (!list.some((other) => keyOf(other) === key)) list.push(q);
      byUser.set(userKey, list);
    }
    const started: Array<Promise<void>> = [];
    for (const list of byUser.values()) {
      const { tracker, user } = list[0];
      const lookup = this.options.directory[tracker];
      const done = (async () => {
        let answers: Map<string, MembershipAnswer>;
        if (!lookup) {
          const credentials = { jira: 'JIRA_BASE_URL with JIRA_EMAIL + JIRA_API_TOKEN or JIRA_PAT', github: 'GITHUB_TOKEN', linear: 'LINEAR_API_KEY', trello: 'TRELLO_API_KEY + TRELLO_TOKEN' }[tracker];
          answers = new Map(list.map((q) => [q.group, { error: `cannot look up ${tracker} groups: no ${tracker} credentials (${credentials})` }]));
        } else {
          try {
            answers = await lookup(user, list.map((q) => q.group));
          } catch (error) {
            answers = new Map(list.map((q) => [q.group, { error: `${tracker} group lookup failed: ${(error as Error).message}` }]));
          }
        }
        for (const q of list) this.store(q, answers.get(q.group) ?? { error: `${tracker} lookup gave no answer for ${q.group}` });
        this.options.logger?.debug({ tracker, groups: list.map((q) => q.group) }, 'group membership looked up');
      })().finally(() => {
        for (const q of list) this.inFlight.delete(keyOf(q));
      });
      for (const q of list) this.inFlight.set(keyOf(q), done);
      started.push(done);
    }
    if (started.length === 0) return;
    await Promise.all(started);
    this.options.onResolved?.();
  }

  private store(question: MembershipQuestion, answer: MembershipAnswer): void {
    const key = keyOf(question);
    const ttl = 'error' in answer ? Math.min(ERROR_TTL_MS, this.options.ttlMs) : this.options.ttlMs;
    this.answers.delete(key);
    this.answers.set(key, { answer, expiresAt: this.now() + ttl });
    while (this.answers.size > this.maxEntries) this.answers.delete(this.answers.keys().next().value!);
  }
}
