/**
 * `DATABASE_URL` parsing (src/db/postgres/postgres-config.ts): the forms node-postgres accepts, what messages show
 * (host:port, the URL with `***` for the password), and problems that never repeat the value.
 */
import { describe, expect, it } from 'vitest';
import { loadConfig, ConfigError } from '../../src/config.js';
import { parseDatabaseUrl, scrubPassword, type PostgresTarget } from '../../src/db/postgres/postgres-config.js';

const parsed = (url: string) => parseDatabaseUrl(url) as PostgresTarget;

describe('parseDatabaseUrl', () => {
  it('reads user, host, port and database, and shows the password as ***', () => {
    const t = parsed('postgres://deflect:s%40cret@db.internal:6432/deflect?sslmode=require');
    expect(t).toMatchObject({ user: 'deflect', password: 's@cret', database: 'deflect', hostPort: 'db.internal:6432' });
    expect(t.display).toBe('postgres://deflect:***@db.internal:6432/deflect?sslmode=require');
    expect(t.url).toBe('postgres://deflect:s%40cret@db.internal:6432/deflect?sslmode=require');
  });

  it('defaults the port to 5432 and accepts postgresql:// and a URL without user', () => {
    expect(parsed('postgresql://localhost/deflect')).toMatchObject({ hostPort: 'localhost:5432', user: '', password: '', display: 'postgresql://localhost/deflect' });
  });

  it('accepts a Unix socket given as ?host=, with or without a user', () => {
    expect(parsed('postgres://deflect@/deflect?host=/run/postgresql')).toMatchObject({ hostPort: '/run/postgresql:5432', user: 'deflect', database: 'deflect' });
    expect(parsed('postgres:///deflect?host=/tmp&port=5433')).toMatchObject({ hostPort: '/tmp:5433', database: 'deflect' });
  });

  it('keeps a password given as a query parameter out of the display (shown as ***)', () => {
    const t = parsed('postgres://deflect@db/deflect?password=hunter2&sslmode=require');
    expect(t.password).toBe('hunter2');
    expect(t.display).toBe('postgres://deflect:***@db/deflect?sslmode=require');
  });

  it.each([
    ['mysql://deflect:hunter2@db/deflect', 'must be a PostgreSQL URL'],
    ['postgres://deflect:hunter2@db:99999/deflect', 'is not a valid URL'],
    ['postgres://deflect:hunter2@/deflect', 'names no host'],
  ])('refuses %s without repeating it', (url, problem) => {
    const result = parseDatabaseUrl(url);
    expect(typeof result).toBe('string');
    expect(result).toContain(problem);
    expect(result).not.toContain('hunter2');
  });

  it('scrubPassword removes the password from any text', () => {
    expect(scrubPassword('auth for hunter2 failed (hunter2)', 'hunter2')).toBe('auth for *** failed (***)');
    expect(scrubPassword('nothing to hide', '')).toBe('nothing to hide');
  });
});

describe('DATABASE_URL in the configuration', () => {
  it('is null when unset (SQLite at DEFLECT_DB) and parsed when set', () => {
    expect(loadConfig({}).databaseUrl).toBeNull();
    expect(loadConfig({ DATABASE_URL: 'postgres://d:p@db/deflect' }, () => false).databaseUrl?.hostPort).toBe('db:5432');
  });

  it('lists a bad value among the configuration problems, without the value', () => {
    try {
      loadConfig({ DATABASE_URL: 'mysql://d:hunter2@db/x', PORT: 'abc' }, () => false);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).problems.map((p) => p.split(':')[0]).sort()).toEqual(['DATABASE_URL', 'PORT']);
      expect((error as Error).message).not.toContain('hunter2');
    }
  });
});
