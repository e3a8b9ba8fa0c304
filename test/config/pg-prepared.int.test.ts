// Statements with parameters run as named prepared statements (PG_PREPARED_STATEMENTS): PostgreSQL parses
// each text once per connection, and the plan is cached. A statement that reads or returns `*` is never
// prepared, so a column added while the shop runs (a migration) does not fail it with "cached plan must not
// change result type"; a statement spoiled anyway (a column's type changed) costs one error, after which a
// fresh connection prepares it again; a parameter pg would convert (an object, sent as JSON) is not
// prepared; 0 turns preparing off.
import { createDb, loadInfra, type Knex } from '@qtshop/shared/infra';

const opened: Knex[] = [];
const dbWith = (env: Record<string, string>, max = 2) => {
  const db = createDb(loadInfra({ ...process.env, ...env }), 'postgres', { max }, `prepared-test-${process.pid}`);
  opened.push(db);
  return db;
};
const table = `prepared_test_${process.pid}`;
afterAll(async () => {
  await opened[0]?.schema.dropTableIfExists(table);
  await Promise.all(opened.map((db) => db.destroy()));
});

/** The table `name`, made anew: an `id` column of `idType` (the key) and a text column `a`, holding `row`. */
async function freshTable(db: Knex, name: string, idType: 'integer' | 'text', row: { id: number | string; a: string }): Promise<void> {
  await db.schema.dropTableIfExists(name);
  await db.schema.createTable(name, (t) => {
    t[idType]('id').primary();
    t.text('a');
  });
  await db(name).insert(row);
}

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
    await freshTable(db, table, 'integer', { id: 1, a: 'x' });
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

  it('discards a connection whose prepared statement a type change spoiled: one error, then a fresh connection', async () => {
    const db = dbWith({}, 1);
    const spoiled = `${table}_spoiled`;
    await freshTable(db, spoiled, 'integer', { id: 1, a: '7' });
    const read = () => db(spoiled).select('a').where({ id: 1 });
    expect(await read()).toEqual([{ a: '7' }]);
    const pid = async () => ((await db.raw('select pg_backend_pid() as pid')) as { rows: Array<{ pid: number }> }).rows[0]!.pid;
    const before = await pid();
    await db.raw(`alter table ?? alter column a type integer using a::integer`, [spoiled]);
    await expect(read()).rejects.toMatchObject({ code: '0A000' });
    expect(await read()).toEqual([{ a: 7 }]);
    expect(await pid()).not.toBe(before);
    await db.schema.dropTable(spoiled);
  });

  it("discards a connection whose prepared statement's parameter no longer fits the column a type change made", async () => {
    const db = dbWith({}, 1);
    const retyped = `${table}_retyped`;
    await freshTable(db, retyped, 'text', { id: '1', a: 'x' });
    const read = () => db(retyped).select('a').where({ id: '1' });
    expect(await read()).toEqual([{ a: 'x' }]);
    await db.raw(`alter table ?? alter column id type integer using id::integer`, [retyped]);
    await expect(read()).rejects.toMatchObject({ code: expect.stringMatching(/^(42883|42804)$/) });
    expect(await read()).toEqual([{ a: 'x' }]);
    await db.schema.dropTable(retyped);
  });

  it('does not prepare a statement with a parameter pg converts (an object, sent as JSON)', async () => {
    const db = dbWith({});
    const prepared = await db.transaction(async (trx) => {
      expect((await trx.raw('select ?::jsonb as j', [{ a: 1 }])).rows[0].j).toEqual({ a: 1 });
      return preparedOn(trx);
    });
    expect(prepared.map((p) => p.statement)).not.toContain('select $1::jsonb as j');
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
