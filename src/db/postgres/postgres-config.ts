/**
 * `DATABASE_URL`: where the PostgreSQL backend lives (decision 018). Parsed here, read by `src/config.ts` (the only
 * module that reads the environment). Messages name the server as `host:port` and the URL with its password replaced
 * by `***`: the password is never printed or logged.
 *
 * Accepted forms (those of node-postgres, https://node-postgres.com/features/connecting#connection-uri):
 * `postgres://user:password@host:5432/database`, `postgresql://…`, and a Unix socket as
 * `postgres://user@/database?host=/run/postgresql`; query parameters (`sslmode=require`, …) pass through to the driver.
 */
import { z } from 'zod';

/** A parsed `DATABASE_URL`. */
export interface PostgresTarget {
  /** The URL as given (with its password): for the driver only, never for a message. */
  url: string;
  /** The URL for messages: `postgres://deflect:***@db.internal:5432/deflect`. */
  display: string;
  /** The server for messages: `db.internal:5432`, or the socket folder (`/run/postgresql:5432`). */
  hostPort: string;
  /** The user name in the URL, or `''` (the driver then uses `PGUSER` or the OS user). */
  user: string;
  /** The password in the URL (decoded), or `''`; used only to scrub driver messages. */
  password: string;
  /** The database name, or `''` (the driver then uses the user name). */
  database: string;
}

/** The PostgreSQL default port. */
export const DEFAULT_POSTGRES_PORT = 5432;

/** The example shown when `DATABASE_URL` is not a PostgreSQL URL. */
const EXAMPLE = 'postgres://deflect:PASSWORD@db.internal:5432/deflect';

/**
 * Parses a `DATABASE_URL` value.
 * @returns the target, or a one-line problem (which never repeats the value: it may hold a password).
 */
export function parseDatabaseUrl(value: string): PostgresTarget | string {
  const scheme = /^(postgres|postgresql):\/\//i.exec(value);
  if (!scheme) return `must be a PostgreSQL URL like ${EXAMPLE} (postgres:// or postgresql://; the value is not shown, it may hold a password)`;
  let parsed: URL;
  try {
    // A socket URL (`postgres://user@/db?host=/run/postgresql`) has no host, which WHATWG URL refuses: parse it with a
    // placeholder host, as node-postgres's own parser (pg-connection-string) does.
    parsed = new URL(value.replace(/@\//, '@placeholder.invalid/').replace(/^(postgres|postgresql):\/\/\//i, '$1://placeholder.invalid/'));
  } catch {
    return `is not a valid URL: use the form ${EXAMPLE} (percent-encode special characters in the password; the value is not shown)`;
  }
  const socket = parsed.searchParams.get('host');
  const host = socket ?? (parsed.hostname === 'placeholder.invalid' ? '' : parsed.hostname);
  if (!host) return `names no host: use the form ${EXAMPLE}, or postgres://user@/deflect?host=/run/postgresql for a Unix socket`;
  const port = parsed.searchParams.get('port') ?? (parsed.port || String(DEFAULT_POSTGRES_PORT));
  const user = safeDecode(parsed.username);
  // node-postgres also takes the password as a `password` query parameter.
  const password = safeDecode(parsed.password) || (parsed.searchParams.get('password') ?? '');
  const database = safeDecode(parsed.pathname.replace(/^\//, ''));
  const credentials = user ? `${parsed.username}${password ? ':***' : ''}@` : '';
  const displayHost = socket ? '' : parsed.host;
  const query = [...parsed.searchParams.entries()]
    .filter(([name]) => name !== 'password')
    .map(([name, v]) => `${name}=${v}`)
    .join('&');
  return {
    url: value,
    display: `${scheme[1].toLowerCase()}://${credentials}${displayHost}/${database}${query ? `?${query}` : ''}`,
    hostPort: `${host}:${port}`,
    user,
    password,
    database,
  };
}

/** The `DATABASE_URL` field of the environment schema: unset → null, else a {@link PostgresTarget}. */
export const databaseUrlSetting = z
  .string()
  .optional()
  .transform((value, ctx) => {
    if (value === undefined) return null;
    const target = parseDatabaseUrl(value);
    if (typeof target === 'string') {
      ctx.addIssue({ code: 'custom', message: target });
      return z.NEVER;
    }
    return Object.freeze(target);
  });

/** Replaces `password` wherever it appears in `text` (driver messages), so no message can carry it. */
export function scrubPassword(text: string, password: string): string {
  return password ? text.split(password).join('***') : text;
}

function safeDecode(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}
