/**
 * Retry delays: exponential backoff with full jitter (https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/),
 * never shorter than Jira's `Retry-After` (https://developer.atlassian.com/cloud/jira/platform/rate-limiting/:
 * retrying earlier "will fail and return the same or longer Retry-After period").
 */

/** Base delay of the first retry, ms. */
export const BACKOFF_BASE_MS = 1_000;
/** Longest delay between two attempts, ms. */
export const BACKOFF_CAP_MS = 5 * 60_000;

/**
 * Delay before the next attempt, ms.
 * @param attempt the attempt that just failed, from 1.
 * @param retryAfterMs Jira's `Retry-After` in ms, or null.
 * @param random a number in [0, 1) (injectable for deterministic tests).
 */
export function retryDelayMs(attempt: number, retryAfterMs: number | null, random: () => number = Math.random): number {
  const ceiling = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** Math.max(0, attempt - 1));
  const jittered = Math.round(ceiling / 2 + random() * (ceiling / 2));
  return Math.max(jittered, retryAfterMs ?? 0);
}
