/**
 * Storage faults for tests on either backend: an INSERT into a table that fails (the database refusing a row, as a
 * full disk or a broken table would) while a condition on the new row holds. On SQLite a trigger that RAISEs ABORT;
 * on PostgreSQL a trigger whose plpgsql function RAISEs EXCEPTION. The trigger lives in the test's own database
 * (created on the test's connection, seen by every connection, the server's Store included) until the returned
 * function drops it.
 */
import type { TestDatabase } from './test-backend.js';

/**
 * Makes every INSERT into `table` whose new row satisfies `when` (SQL over `NEW.<column>`, understood by both
 * dialects, e.g. `NEW.issue_key = 'RR-4'`; `'true'` for every row) fail with `message`.
 * @param name the trigger's name (an SQL identifier, unique in the database).
 * @returns a function that removes the fault.
 */
export async function failInserts(database: TestDatabase, name: string, table: string, when: string, message: string): Promise<() => Promise<void>> {
  if (!/^[a-z_][a-z0-9_]*$/.test(name) || !/^[a-z_][a-z0-9_]*$/.test(table)) throw new Error(`failInserts: ${name} / ${table} must be plain identifiers`);
  const quoted = `'${message.replace(/'/g, "''")}'`;
  if (database.backend === 'sqlite') {
    await database.run(`CREATE TRIGGER ${name} BEFORE INSERT ON ${table} WHEN ${when} BEGIN SELECT RAISE(ABORT, ${quoted}); END`);
    return async () => void (await database.run(`DROP TRIGGER IF EXISTS ${name}`));
  }
  await database.run(`CREATE FUNCTION ${name}_fault() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION ${quoted}; END $$`);
  await database.run(`CREATE TRIGGER ${name} BEFORE INSERT ON ${table} FOR EACH ROW WHEN (${when}) EXECUTE FUNCTION ${name}_fault()`);
  return async () => {
    await database.run(`DROP TRIGGER IF EXISTS ${name} ON ${table}`);
    await database.run(`DROP FUNCTION IF EXISTS ${name}_fault()`);
  };
}
