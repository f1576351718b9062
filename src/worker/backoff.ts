/**
 * Retry delays: exponential backoff with jitter (https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/,
 * "equal jitter": half the ceiling fixed, half random), never shorter than Jira's `Retry-After`
 * (https://developer.atlassian.com/cloud/jira/platform/rate-limiting/: retrying earlier "will fail and return the same
 * or longer Retry-After period").
 */

/** Default base delay of the first retry, ms (`DEFLECT_RETRY_BASE_MS`). */
export const BACKOFF_BASE_MS = 1_000;
/** Longest delay between two attempts, ms (before the `Retry-After` floor). */
export const BACKOFF_CAP_MS = 5 * 60_000;

/**
 * Delay before the next attempt, ms: a value in [ceiling/2, ceiling] where ceiling = min(cap, base · 2^(attempt−1)),
 * raised to `retryAfterMs` when Jira asked for a longer wait.
 * @param attempt the attempt that just failed, from 1.
 * @param retryAfterMs Jira's `Retry-After` in ms, or null.
 * @param random a number in [0, 1) (injectable for deterministic tests).
 * @param baseMs the first retry's ceiling, ms.
 * @example retryDelayMs(3, null, () => 0.5) // 3000 (ceiling 4000 → between 2000 and 4000)
 */
export function retryDelayMs(
  attempt: number,
  retryAfterMs: number | null,
  random: () => number = Math.random,
  baseMs: number = BACKOFF_BASE_MS,
): number {
  const ceiling = Math.min(BACKOFF_CAP_MS, baseMs * 2 ** Math.max(0, attempt - 1));
  const jittered = Math.round(ceiling / 2 + random() * (ceiling / 2));
  return Math.max(jittered, retryAfterMs ?? 0);
}
