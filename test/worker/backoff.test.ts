/**
 * Retry policy units: the backoff delay (exponential, jittered, capped, never below Retry-After) as properties over
 * random attempts and Retry-After values, and which errors count as transient.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { JiraRequestError } from '../../src/jira/jira-actions.js';
import { LoopGuardError } from '../../src/trackers/recorded-actions.js';
import { BACKOFF_CAP_MS, retryDelayMs } from '../../src/worker/backoff.js';
import { HandlerTimeoutError, isTransient, retryAfterOf } from '../../src/worker/execute-run.js';

const jiraError = (status: number | null, transient: boolean, retryAfterMs: number | null = null) =>
  new JiraRequestError(`Jira GET /x → ${status}`, { status, transient, retryAfterMs });

describe('retryDelayMs', () => {
  it('stays within [ceiling/2, ceiling] of base·2^(attempt−1) (capped), and never below Retry-After', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        fc.option(fc.integer({ min: 0, max: 3_600_000 }), { nil: null }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        fc.integer({ min: 1, max: 10_000 }),
        (attempt, retryAfter, r, base) => {
          const delay = retryDelayMs(attempt, retryAfter, () => r, base);
          const ceiling = Math.min(BACKOFF_CAP_MS, base * 2 ** (attempt - 1));
          expect(delay).toBeGreaterThanOrEqual(Math.max(Math.floor(ceiling / 2), retryAfter ?? 0));
          expect(delay).toBeLessThanOrEqual(Math.max(Math.ceil(ceiling), retryAfter ?? 0));
        },
      ),
      { seed: 7, numRuns: 2_000 },
    );
  });

  it('grows with the attempt number and spreads retries out (jitter)', () => {
    expect(retryDelayMs(1, null, () => 0.5)).toBe(750);
    expect(retryDelayMs(3, null, () => 0.5)).toBe(3_000);
    expect(retryDelayMs(30, null, () => 0.999)).toBeLessThanOrEqual(BACKOFF_CAP_MS);
    const spread = new Set(Array.from({ length: 50 }, () => retryDelayMs(4, null)));
    expect(spread.size).toBeGreaterThan(10);
    expect(retryDelayMs(1, 30_000, () => 0)).toBe(30_000);
  });
});

describe('isTransient', () => {
  it.each([
    ['429', jiraError(429, true, 1000), true],
    ['503', jiraError(503, true), true],
    ['a timeout (no status)', jiraError(null, true), true],
    ['400 validation', jiraError(400, false), false],
    ['404', jiraError(404, false), false],
    ['a handler timeout', new HandlerTimeoutError('h', 10), true],
    ['ECONNRESET from another client', Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }), true],
    ['a handler bug', new TypeError('x is undefined'), false],
    ['the loop guard', new LoopGuardError('OPS-1', 20, 20), false],
    ['a 429 wrapped by a handler', new Error('could not comment', { cause: jiraError(429, true, 2000) }), true],
    ['a 400 wrapped by a handler', new Error('could not comment', { cause: jiraError(400, false) }), false],
  ])('%s → %s', (_what, error, expected) => {
    expect(isTransient(error)).toBe(expected);
  });

  it('finds Retry-After on the error or its cause', () => {
    expect(retryAfterOf(jiraError(429, true, 1500))).toBe(1500);
    expect(retryAfterOf(new Error('wrapped', { cause: jiraError(429, true, 2500) }))).toBe(2500);
    expect(retryAfterOf(new Error('plain'))).toBeNull();
  });
});
