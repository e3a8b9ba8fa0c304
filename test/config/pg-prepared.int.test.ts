// Statements with parameters run as named prepared statements (PG_PREPARED_STATEMENTS): PostgreSQL parses
// each text once per connection, and the plan is cached. A statement that reads or returns `*` is never
// prepared, so a column added while the shop runs (a migration) does not fail it with "cached plan must not
// change result type"; 0 turns preparing off.
import { createDb, loadInfra, statementNames, type Knex } from '@qtshop/shared/infra';

const opened: Knex[] = [];
const dbWith = (env: Record<string, string>) => {
  const db = createDb(loadInfra({ ...process.env, ...env }), 'postgres', { max: 2 }, `prepared-test-${process.pid}`);
  opened.push(db);
  return db;
};
const table = `prepared_test_${process.pid}`;
afterAll(async () => {
  await opened[0]?.schema.dropTableIfExists(table);
  await Promise.all(opened.map((db) => db.destroy()));
});

interface Prepared {
  statement: string;
  runs: number;
}
/** The statements prepared on the transaction's connection (this query has no parameters: it is not one of them). */
const preparedOn = async (trx: Knex.Transaction): Promise<Prepared[]> =>
  ((await trx.raw('select statement, (generic_plans + custom_plans)::int as runs from pg_prepared_statements')) as { rows: Prepared[] }).rows;

describe('prepared statements', () => {
  it('runs a statement with parameters as a prepared statement, parsed once per connection', async () => {
    const db = dbWith({});
    const prepared = await db.transaction(async (trx) => {
      for (let i = 0; i < 3; i++) expect((await trx.raw('select ?::int + 1 as n', [i])).rows[0].n).toBe(i + 1);
      return preparedOn(trx);
    });
    expect(prepared).toContainEqual({ statement: 'select $1::int + 1 as n', runs: 3 });
  });

  it('never prepares a statement that reads `*`, so a column added meanwhile shows instead of failing it', async () => {
    const db = dbWith({});
    await db.schema.dropTableIfExists(table);
    await db.schema.createTable(table, (t) => {
      t.integer('id').primary();
      t.text('a');
    });
    await db(table).insert({ id: 1, a: 'x' });
    const rows = await db.transaction(async (trx) => {
      expect(await trx(table).select('*').where({ id: 1 })).toEqual([{ id: 1, a: 'x' }]);
      expect(await trx(table).select('a').where({ id: 1 })).toEqual([{ a: 'x' }]);
      await trx.schema.alterTable(table, (t) => t.text('b').defaultTo('y'));
      expect(await trx(table).select('a').where({ id: 1 })).toEqual([{ a: 'x' }]);
      const after = await trx(table).select('*').where({ id: 1 });
      const statements = (await preparedOn(trx)).map((p) => p.statement);
      expect(statements).toContain(`select "a" from "${table}" where "id" = $1`);
      expect(statements.some((s) => s.includes('*'))).toBe(false);
      return after;
    });
    expect(rows).toEqual([{ id: 1, a: 'x', b: 'y' }]);
  });

  it('prepares nothing with PG_PREPARED_STATEMENTS=0', async () => {
    const db = dbWith({ PG_PREPARED_STATEMENTS: '0' });
    const prepared = await db.transaction(async (trx) => {
      await trx.raw('select ?::int + 2 as n', [1]);
      return preparedOn(trx);
    });
    expect(prepared).toEqual([]);
  });
});

describe('statementNames', () => {
  it('names each text once, leaves `*` unnamed, and stops at its bound', () => {
    const nameOf = statementNames(2);
    const first = nameOf('select "a" from "t" where "id" = $1');
    expect(first).toBeDefined();
    expect(nameOf('select "a" from "t" where "id" = $1')).toBe(first);
    expect(nameOf('select * from "t" where "id" = $1')).toBeUndefined();
    expect(nameOf('select "t".* from "t" where "id" = $1')).toBeUndefined();
    expect(nameOf('insert into "t" ("id") values ($1) returning *')).toBeUndefined();
    const second = nameOf('select count(*) from "t" where "id" = $1');
    expect(second).toBeDefined();
    expect(second).not.toBe(first);
    expect(nameOf('select "b" from "t" where "id" = $1')).toBeUndefined();
  });
});
