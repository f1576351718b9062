/**
 * The PostgreSQL schema (src/db/postgres/) mirrors the SQLite one fact by fact, from drizzle's table metadata: the
 * same tables; per table the same columns in the same order (name, property, type by decision 018's mapping, not
 * null, default, enum values, primary key, autoincrement ↔ identity); the same indexes (name, unique, columns, partial
 * condition), unique constraints and foreign keys. Every fact is written twice, so each is checked. Also: the copy
 * order lists every table once, parents before children, and every table has a total row order for the checksum.
 */
import { getTableColumns, type SQL } from 'drizzle-orm';
import { getTableConfig as pgConfig, PgDialect, type PgTable } from 'drizzle-orm/pg-core';
import { getTableConfig as sqliteConfig, SQLiteSyncDialect, type SQLiteTable } from 'drizzle-orm/sqlite-core';
import { describe, expect, it } from 'vitest';
import * as sqliteAudit from '../../src/db/audit-schema.js';
import * as pgAudit from '../../src/db/postgres/audit-schema.js';
import * as pgReport from '../../src/db/postgres/report-schema.js';
import * as pgMain from '../../src/db/postgres/schema.js';
import { TABLES_IN_FK_ORDER, tableShape } from '../../src/db/postgres/tables.js';
import * as pgVerification from '../../src/db/postgres/verification-schema.js';
import * as sqliteReport from '../../src/db/report-schema.js';
import * as sqliteMain from '../../src/db/schema.js';
import * as sqliteVerification from '../../src/db/verification-schema.js';

const isTable = (v: unknown, config: (t: never) => { name: string }) => {
  try {
    return typeof v === 'object' && v !== null && typeof config(v as never).name === 'string' && 'getSQL' in (v as object);
  } catch {
    return false;
  }
};
const sqliteTables = [sqliteMain, sqliteReport, sqliteAudit, sqliteVerification].flatMap((m) => Object.values(m).filter((v) => isTable(v, sqliteConfig))) as SQLiteTable[];
const pgTables = [pgMain, pgReport, pgAudit, pgVerification].flatMap((m) => Object.values(m).filter((v) => isTable(v, pgConfig))) as PgTable[];
const sqliteByName = new Map(sqliteTables.map((t) => [sqliteConfig(t).name, t]));
const pgByName = new Map(pgTables.map((t) => [pgConfig(t).name, t]));
const names = [...sqliteByName.keys()].sort();

const sqliteSql = new SQLiteSyncDialect();
const pgSql = new PgDialect();
const render = (where: SQL | undefined, dialect: SQLiteSyncDialect | PgDialect) => (where ? dialect.sqlToQuery(where).sql : null);

/** Decision 018: SQLite integer → bigint (as a number), integer boolean → boolean, text → text. */
const TYPE_MAPPING: Record<string, string> = { SQLiteInteger: 'PgBigInt53', SQLiteBoolean: 'PgBoolean', SQLiteText: 'PgText' };

describe('PostgreSQL schema mirrors the SQLite schema', () => {
  it('has the same 21 tables', () => {
    expect(names).toHaveLength(21);
    expect([...pgByName.keys()].sort()).toEqual(names);
  });

  describe.each(names)('%s', (name) => {
    const s = sqliteConfig(sqliteByName.get(name)!);
    const p = pgConfig(pgByName.get(name)!);

    it('has the same columns, in order, with the same properties', () => {
      expect(p.columns.map((c) => c.name)).toEqual(s.columns.map((c) => c.name));
      expect(Object.keys(getTableColumns(pgByName.get(name)!))).toEqual(Object.keys(getTableColumns(sqliteByName.get(name)!)));
    });

    it.each(s.columns.map((c) => c.name))('column %s: type, not null, default, enum, primary key, identity', (column) => {
      const sc = s.columns.find((c) => c.name === column)!;
      const pc = p.columns.find((c) => c.name === column)!;
      expect(pc.columnType).toBe(TYPE_MAPPING[sc.columnType]);
      expect(pc.notNull).toBe(sc.notNull);
      // drizzle marks every SQLite integer primary key as defaulted (a rowid alias is assigned when left out); without
      // autoincrement deflect always gives the value (audit seq, checkpoint id, probe id 1, run ids), so PostgreSQL has no default.
      const autoIncrement = Boolean((sc as unknown as { autoIncrement?: boolean }).autoIncrement);
      const rowidOnly = sc.primary && sc.columnType === 'SQLiteInteger' && !autoIncrement;
      expect(pc.hasDefault).toBe(rowidOnly ? false : sc.hasDefault);
      expect(pc.default).toEqual(sc.default);
      expect(pc.enumValues ?? null).toEqual(sc.enumValues ?? null);
      expect(pc.primary).toBe(sc.primary);
      expect(Boolean(pc.generatedIdentity)).toBe(autoIncrement);
    });

    it('has the same composite primary keys and unique constraints', () => {
      expect(p.primaryKeys.map((k) => k.columns.map((c) => c.name))).toEqual(s.primaryKeys.map((k) => k.columns.map((c) => c.name)));
      expect(p.uniqueConstraints.map((u) => [u.name, u.columns.map((c) => c.name)])).toEqual(s.uniqueConstraints.map((u) => [u.name, u.columns.map((c) => c.name)]));
    });

    it('has the same indexes: name, unique, columns, partial condition', () => {
      const shape = (config: { name?: string; unique: boolean; columns: unknown[] }, where: string | null) => ({
        name: config.name,
        unique: config.unique,
        columns: config.columns.map((c) => (c as { name: string }).name),
        where,
      });
      const pgIndexes = p.indexes.map((i) => shape(i.config, render(i.config.where, pgSql)));
      const sqliteIndexes = s.indexes.map((i) => shape(i.config, render(i.config.where, sqliteSql)));
      expect(pgIndexes).toEqual(sqliteIndexes);
    });

    it('has the same foreign keys: columns, referenced table and columns, on delete / on update', () => {
      const fk = (reference: { columns: Array<{ name: string }>; foreignColumns: Array<{ name: string }>; foreignTable: never }, config: (t: never) => { name: string }, onDelete?: string, onUpdate?: string) => ({
        columns: reference.columns.map((c) => c.name),
        table: config(reference.foreignTable).name,
        foreignColumns: reference.foreignColumns.map((c) => c.name),
        onDelete: onDelete ?? 'no action',
        onUpdate: onUpdate ?? 'no action',
      });
      const pgKeys = p.foreignKeys.map((k) => fk(k.reference() as never, pgConfig as never, k.onDelete, k.onUpdate));
      const sqliteKeys = s.foreignKeys.map((k) => fk(k.reference() as never, sqliteConfig as never, k.onDelete, k.onUpdate));
      expect(pgKeys).toEqual(sqliteKeys);
    });
  });
});

describe('the copy order (src/db/postgres/tables.ts)', () => {
  it('lists every table once, each with its SQLite and PostgreSQL definitions', () => {
    expect(TABLES_IN_FK_ORDER.map((t) => t.name).sort()).toEqual(names);
    for (const t of TABLES_IN_FK_ORDER) {
      expect(sqliteConfig(t.sqlite).name).toBe(t.name);
      expect(t.postgres).toBe(pgByName.get(t.name));
    }
  });

  it('puts every table after the tables it references', () => {
    const position = new Map(TABLES_IN_FK_ORDER.map((t, i) => [t.name, i]));
    for (const t of TABLES_IN_FK_ORDER) {
      for (const key of pgConfig(t.postgres).foreignKeys) {
        const parent = pgConfig(key.reference().foreignTable).name;
        expect(position.get(parent), `${t.name} references ${parent}`).toBeLessThan(position.get(t.name)!);
      }
    }
  });

  it('gives every table a total row order (primary key, or unique index) and every column a copyable kind', () => {
    const orders = Object.fromEntries(TABLES_IN_FK_ORDER.map((t) => [t.name, tableShape(t.postgres).orderBy]));
    expect(orders.ticket_labels).toEqual(['ticket_id', 'label']);
    expect(orders.deliveries).toEqual(['id']);
    expect(orders.tickets).toEqual(['id']);
    expect(Object.values(orders).every((o) => o.length > 0)).toBe(true);
    const identities = TABLES_IN_FK_ORDER.map((t) => [t.name, tableShape(t.postgres).identity]).filter(([, id]) => id);
    expect(identities.map(([n]) => n).sort()).toEqual(['actions', 'api_tokens', 'approvals', 'deliveries', 'handler_mode_changes', 'runs', 'slack_requests']);
  });
});
