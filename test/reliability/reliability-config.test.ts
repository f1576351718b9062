/**
 * The reliability settings in `loadConfig`: run lease, delivery retention (durations or `off`), least free disk space,
 * and the explicit opt-out of webhook authentication; bad values are listed by name.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';

describe('reliability settings', () => {
  it('has safe defaults', () => {
    expect(loadConfig({})).toMatchObject({ runLeaseMs: 60_000, deliveryRetentionMs: 30 * 86_400_000, minFreeBytes: 64 * 1024 * 1024, insecureNoAuth: false });
  });

  it('parses each variable', () => {
    const config = loadConfig({
      DEFLECT_RUN_LEASE_MS: '5000',
      DEFLECT_DELIVERY_RETENTION: '2w',
      DEFLECT_MIN_FREE_BYTES: '0',
      DEFLECT_INSECURE_NO_AUTH: 'true',
    });
    expect(config).toMatchObject({ runLeaseMs: 5_000, deliveryRetentionMs: 14 * 86_400_000, minFreeBytes: 0, insecureNoAuth: true });
    expect(loadConfig({ DEFLECT_DELIVERY_RETENTION: '12h' }).deliveryRetentionMs).toBe(12 * 3_600_000);
    expect(loadConfig({ DEFLECT_DELIVERY_RETENTION: 'OFF' }).deliveryRetentionMs).toBeNull();
  });

  it('lists every bad value', () => {
    let error: unknown;
    try {
      loadConfig({ DEFLECT_RUN_LEASE_MS: '10', DEFLECT_DELIVERY_RETENTION: 'forever', DEFLECT_MIN_FREE_BYTES: '-1', DEFLECT_INSECURE_NO_AUTH: 'maybe' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join('\n');
    expect(problems).toMatch(/DEFLECT_RUN_LEASE_MS: must be at least 1000 \(ms\)/);
    expect(problems).toMatch(/DEFLECT_DELIVERY_RETENTION: invalid DEFLECT_DELIVERY_RETENTION ".*": use a whole number above 0 and a unit \(s, m, h, d, w\) like 30m, 12h, 30d, 2w, or off/);
    expect(problems).toMatch(/DEFLECT_MIN_FREE_BYTES/);
    expect(problems).toMatch(/DEFLECT_INSECURE_NO_AUTH/);
  });
});
