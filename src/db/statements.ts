/**
 * Prepared-statement cache. better-sqlite3 compiles SQL on every `prepare`; the hot paths (recording deliveries,
 * routing, claiming runs) run the same few statements thousands of times a second, so each connection keeps its
 * compiled statements, keyed by SQL text. Bounded (oldest evicted) so dynamically built SQL cannot grow it forever.
 */
import type Database from 'better-sqlite3';
import type { Db } from './client.js';

const MAX_STATEMENTS = 256;
const caches = new WeakMap<Database.Database, Map<string, Database.Statement>>();

/** The compiled statement for `sql` on `db`'s connection (compiled once, then reused). */
export function statement(db: Db, sql: string): Database.Statement {
  let cache = caches.get(db.$client);
  if (!cache) caches.set(db.$client, (cache = new Map()));
  let stmt = cache.get(sql);
  if (!stmt) {
    stmt = db.$client.prepare(sql);
    if (cache.size >= MAX_STATEMENTS) cache.delete(cache.keys().next().value!);
    cache.set(sql, stmt);
  }
  return stmt;
}
