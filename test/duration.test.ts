/**
 * The one duration grammar (src/duration.ts) and every place that uses it: valid and invalid texts, the edge cases
 * the module decides (zero, fractions, case, blanks, the upper bound), the zod schema, the commander argument
 * parser, the config variables and the API query.
 */
import { InvalidArgumentError } from 'commander';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { approvalSchema } from '../src/automation/approval-rule.js';
import { ConfigError, loadConfig } from '../src/config.js';
import { DURATION_UNIT_MS, DurationError, durationArg, durationSchema, MAX_DURATION_MS, parseDuration } from '../src/duration.js';
import { parseSince } from '../src/reports/report-window.js';

const GRAMMAR = /use a whole number above 0 and a unit \(s, m, h, d, w\) like 30m, 12h, 30d, 2w/;

describe('parseDuration', () => {
  it.each([
    ['45s', 45_000],
    ['30m', 1_800_000],
    ['12h', 43_200_000],
    ['30d', 2_592_000_000],
    ['2w', 1_209_600_000],
    ['30D', 2_592_000_000],
    ['  12 h ', 43_200_000],
    ['0090m', 5_400_000],
  ])('%j → %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['', 'soon', '30', 'd', '1.5h', '-2h', '+2h', '1h30m', '3mo', '1y', '0d', '0m', 'all', 'off', '30 days', '2 w x'])('refuses %j with the grammar', (text) => {
    expect(() => parseDuration(text)).toThrow(DurationError);
    expect(() => parseDuration(text)).toThrow(GRAMMAR);
  });

  it('names the value in the message, or says what it is not', () => {
    expect(() => parseDuration('soon', { name: '--older-than' })).toThrow(/^invalid --older-than "soon": use a whole number/);
    expect(() => parseDuration('soon')).toThrow(/^"soon" is not a duration: use/);
  });

  it('takes all and off only where allowed, in any case', () => {
    expect(parseDuration('ALL', { allowAll: true })).toBe('all');
    expect(parseDuration(' off ', { allowOff: true })).toBe('off');
    expect(() => parseDuration('all', { allowOff: true })).toThrow(/, or off$/);
    expect(() => parseDuration('off', { allowAll: true })).toThrow(/, or all$/);
  });

  it('takes 0 only with allowZero (reconcile --settle 0m)', () => {
    expect(parseDuration('0m', { allowZero: true })).toBe(0);
    expect(() => parseDuration('0m')).toThrow(/above 0/);
  });

  it('refuses more than 100 years', () => {
    expect(parseDuration('5214w')).toBe(5214 * DURATION_UNIT_MS.w);
    expect(() => parseDuration('5215w')).toThrow(/at most 100 years/);
    expect(() => parseDuration(`${'9'.repeat(13)}s`)).toThrow(DurationError);
    expect(MAX_DURATION_MS).toBe(100 * 365 * 86_400_000);
  });

  it('round-trips every count and unit it accepts', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5000 }), fc.constantFrom('s', 'm', 'h', 'd', 'w'), fc.boolean(), (n, unit, upper) => {
        const text = `${n}${upper ? unit.toUpperCase() : unit}`;
        expect(parseDuration(text)).toBe(n * DURATION_UNIT_MS[unit]);
      }),
    );
  });
});

describe('the grammar where it is used', () => {
  it('the zod schema gives one issue with the message', () => {
    const result = durationSchema({ allowAll: true }).safeParse('1.5h');
    expect(result.success).toBe(false);
    expect(result.error!.issues).toHaveLength(1);
    expect(result.error!.issues[0].message).toMatch(/^"1.5h" is not a duration: .*, or all$/);
    expect(durationSchema({ allowAll: true }).parse('all')).toBe('all');
  });

  it('the commander parser raises InvalidArgumentError (bad usage)', () => {
    expect(durationArg({ name: '--since' })('2h')).toBe(7_200_000);
    expect(() => durationArg({ name: '--since' })('2 hours')).toThrow(InvalidArgumentError);
  });

  it('the config variables', () => {
    const config = loadConfig({ DEFLECT_DELIVERY_RETENTION: '2W', DEFLECT_MAX_EVENT_AGE: '90m', DEFLECT_SCOPE_CACHE_TTL: '30s', DEFLECT_RECONCILE_EVERY: 'off' });
    expect(config.deliveryRetentionMs).toBe(14 * 86_400_000);
    expect(config.maxEventAgeMs).toBe(90 * 60_000);
    expect(config.scopeCacheTtlMs).toBe(30_000);
    expect(config.reconcileEveryMs).toBeNull();
    let error: unknown;
    try {
      loadConfig({ DEFLECT_MAX_EVENT_AGE: '1.5h', DEFLECT_RECONCILE_EVERY: 'hourly' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join('\n');
    expect(problems).toMatch(/DEFLECT_MAX_EVENT_AGE: invalid DEFLECT_MAX_EVENT_AGE "1.5h": use a whole number/);
    expect(problems).toMatch(/DEFLECT_RECONCILE_EVERY: invalid DEFLECT_RECONCILE_EVERY "hourly": .*, or off/);
  });

  it('report windows and approval expiry', () => {
    expect(parseSince('30m', 10_000_000)).toEqual({ from: 10_000_000 - 1_800_000, to: 10_000_000 });
    expect(parseSince('all', 5)).toEqual({ from: null, to: 5 });
    expect(() => parseSince('bogus')).toThrow(/invalid --since "bogus": .*, or all/);
    expect(approvalSchema.parse({ approvers: ['lead'], expiresAfter: '2d' }).expiresAfter).toBe(2 * 86_400_000);
    expect(approvalSchema.safeParse({ approvers: ['lead'], expiresAfter: '91d' }).error?.issues[0].message).toBe('must be at most 90d');
    expect(approvalSchema.safeParse({ approvers: ['lead'], expiresAfter: '0d' }).success).toBe(false);
  });
});
