// PostgreSQL least privilege on the real stack (docs/security.md "PostgreSQL roles"): each service's role connects to
// its own database only and does its work there; the relay reads and marks the outbox and nothing else;
// Debezium reads the outbox and nothing else; only the relay and Debezium have REPLICATION. The roles log in
// as the processes do (their settings), the grants are the migrations'.
import pg from 'pg';
import { DATABASES, infraFrom, loadInfra, PG_ROLES, pgConnection, withoutIdentity, type Infra, type PgRole } from '@qtshop/shared/infra';
import { migrateLatest } from '@qtshop/shared/tooling';
import { MIGRATIONS } from '../../migrations';
import { migrateAll } from '../../scripts/migrate';
import { loadCatalogConfig } from '../../services/catalog/src/config';
import { loadInventoryConfig } from '../../services/inventory/src/config';
import { loadOrderCommandConfig } from '../../services/order-command/src/config';
import { loadOrderQueryConfig } from '../../services/order-query/src/config';
import { loadRelayConfig } from '../../services/relay/src/config';
import { loadStackConfig } from '../../stack/config';
import { scratchDb, type ScratchDb } from '../support/scratch';
import { quiet } from '../support/services';

const infra = loadInfra();
const env = withoutIdentity(process.env);
/** Each role as its process logs in (Debezium: as Kafka Connect's environment says, DEBEZIUM_PG_*). */
const LOGINS: Record<PgRole, Infra['pg']> = {
  catalog: infraFrom(loadCatalogConfig(env)).pg,
  inventory: infraFrom(loadInventoryConfig(env)).pg,
  order_command: infraFrom(loadOrderCommandConfig(env)).pg,
  order_query: infraFrom(loadOrderQueryConfig(env)).pg,
  relay: infraFrom(loadRelayConfig(env)).pg,
  debezium: { ...infra.pg, ...loadStackConfig().debeziumPg },
};
/** The databases each role may connect to; nobody but the superuser may connect to `postgres`. */
const MAY_CONNECT: Record<PgRole, string[]> = {
  catalog: ['catalog'],
  inventory: ['inventory'],
  order_command: ['orders'],
  order_query: ['order_query'],
  relay: ['catalog', 'inventory', 'orders'],
  debezium: ['catalog', 'inventory', 'orders'],
};
const INSUFFICIENT_PRIVILEGE = '42501';

let sessions: pg.Client[] = [];
afterEach(async () => {
  await Promise.all(sessions.map((c) => c.end().catch(() => undefined)));
  sessions = [];
});

/** A session of `role` in `database`, as its process opens one. */
async function as(role: PgRole, database: string): Promise<pg.Client> {
  const c = new pg.Client(pgConnection(LOGINS[role], database, `pg-roles-test-${role}`));
  c.on('error', () => undefined);
  try {
    await c.connect();
  } catch (err) {
    await c.end().catch(() => undefined);
    throw err;
  }
  sessions.push(c);
  return c;
}

/** A fresh catalog database, migrated (grants included), whose outbox the test fills as it likes. */
async function catalogScratch(): Promise<ScratchDb & { outboxRow: string }> {
  const scratch = await scratchDb('pgroles');
  await migrateLatest(scratch.db, MIGRATIONS.catalog);
  const outboxRow = '5b0f1d1e-0000-4000-8000-000000000001';
  await scratch.db('outbox').insert({ id: outboxRow, aggregatetype: 'product', aggregateid: 'p-1', type: 'ProductCreated', payload: JSON.stringify({}) });
  return { ...scratch, outboxRow };
}

beforeAll(() => migrateAll([], quiet), 60_000);

describe('PostgreSQL roles on the stack', () => {
  it('are no superusers and cannot create roles or databases; only the relay and Debezium have REPLICATION', async () => {
    const admin = new pg.Client(pgConnection(infra.pg, 'postgres'));
    await admin.connect();
    sessions.push(admin);
    const { rows } = await admin.query<{
      rolname: string;
      rolsuper: boolean;
      rolcreaterole: boolean;
      rolcreatedb: boolean;
      rolreplication: boolean;
      rolcanlogin: boolean;
    }>('select rolname, rolsuper, rolcreaterole, rolcreatedb, rolreplication, rolcanlogin from pg_roles where rolname = any($1) order by rolname', [
      Object.values(LOGINS).map((l) => l.user),
    ]);
    expect(rows.map((r) => r.rolname).sort()).toEqual(
      Object.values(LOGINS)
        .map((l) => l.user)
        .sort(),
    );
    for (const r of rows) {
      expect({ role: r.rolname, super: r.rolsuper, createrole: r.rolcreaterole, createdb: r.rolcreatedb, login: r.rolcanlogin }).toEqual({
        role: r.rolname,
        super: false,
        createrole: false,
        createdb: false,
        login: true,
      });
    }
    expect(rows.filter((r) => r.rolreplication).map((r) => r.rolname)).toEqual([LOGINS.debezium.user, 'relay'].sort());
  });

  it('let the catalog role not even connect to the orders database, so it reads none of its tables', async () => {
    await expect(as('catalog', 'orders')).rejects.toMatchObject({ code: INSUFFICIENT_PRIVILEGE, message: 'permission denied for database "orders"' });
    await expect(as('catalog', 'order_query')).rejects.toMatchObject({ code: INSUFFICIENT_PRIVILEGE });
    // Through its own database neither: PostgreSQL has no query across databases, and no link is installed.
    const catalog = await as('catalog', 'catalog');
    await expect(catalog.query('select * from orders.public.order_events')).rejects.toThrow(/cross-database references are not implemented/);
  });

  it.each(PG_ROLES)('let %s connect to the databases it works in, and to no other', async (role) => {
    for (const database of [...DATABASES, 'postgres']) {
      const connecting = as(role, database);
      if (MAY_CONNECT[role].includes(database)) await expect(connecting.then(() => 'connected')).resolves.toBe('connected');
      else await expect(connecting).rejects.toMatchObject({ code: INSUFFICIENT_PRIVILEGE, message: `permission denied for database "${database}"` });
    }
  });

  describe('in a catalog database', () => {
    let scratch: ScratchDb & { outboxRow: string };
    beforeAll(async () => {
      scratch = await catalogScratch();
    });
    afterAll(() => scratch.drop());

    it('let no role connect but its service, the relay and Debezium (the migrations take CONNECT from PUBLIC)', async () => {
      for (const role of ['inventory', 'order_command', 'order_query'] as const) {
        await expect(as(role, scratch.name)).rejects.toMatchObject({
          code: INSUFFICIENT_PRIVILEGE,
          message: `permission denied for database "${scratch.name}"`,
        });
      }
      for (const role of ['catalog', 'relay', 'debezium'] as const) await as(role, scratch.name);
    });

    it("let the service's role read and write every table of its own, but not the migrations' bookkeeping, nor create anything", async () => {
      const catalog = await as('catalog', scratch.name);
      await catalog.query('begin');
      await catalog.query(
        "insert into products (id, name, description, type, brand, picture_url, price) values ('5b0f1d1e-0000-4000-8000-0000000000aa', 'Kettle', '', 'k', 'b', 'u', 1)",
      );
      await catalog.query("update products set price = 2 where id = '5b0f1d1e-0000-4000-8000-0000000000aa'");
      await catalog.query(
        "insert into outbox (id, aggregatetype, aggregateid, type, payload) values ('5b0f1d1e-0000-4000-8000-0000000000ab', 'product', 'p-2', 'ProductCreated', '{}')",
      );
      await catalog.query("insert into processed_events (event_id, event_type) values ('5b0f1d1e-0000-4000-8000-0000000000ac', 'StockReserved')");
      expect((await catalog.query('select count(*)::int as n from outbox')).rows[0].n).toBe(2);
      await catalog.query('rollback');
      for (const statement of ['select * from knex_migrations', 'create table mine (x int)', 'create temporary table mine (x int)', 'truncate products']) {
        await expect(catalog.query(statement)).rejects.toMatchObject({ code: INSUFFICIENT_PRIVILEGE });
      }
    });

    it('let the relay lock, mark delivered, quarantine and delete outbox rows, and nothing more', async () => {
      const relay = await as('relay', scratch.name);
      const id = scratch.outboxRow;
      await relay.query('begin');
      expect((await relay.query('select id from outbox where sent_at is null for update')).rows).toEqual([{ id }]);
      await relay.query('update outbox set sent_at = now(), seen_at = now(), misrouted_at = now() where id = $1', [id]);
      await relay.query("update outbox set quarantined_at = now(), quarantine_error = 'too large' where id = $1", [id]);
      expect((await relay.query('delete from outbox where id = $1', [id])).rowCount).toBe(1);
      await relay.query('rollback');
      for (const statement of [
        "update outbox set payload = '{}'",
        "update outbox set aggregatetype = 'order'",
        "insert into outbox (id, aggregatetype, aggregateid, type, payload) values ('5b0f1d1e-0000-4000-8000-0000000000ad', 'product', 'p', 'ProductCreated', '{}')",
        'select * from products',
        'select * from processed_events',
        'create table mine (x int)',
      ]) {
        await expect(relay.query(statement)).rejects.toMatchObject({ code: INSUFFICIENT_PRIVILEGE });
      }
    });

    it('let Debezium read the outbox and nothing else', async () => {
      const debezium = await as('debezium', scratch.name);
      expect((await debezium.query('select id from outbox')).rows).toEqual([{ id: scratch.outboxRow }]);
      for (const statement of ['select * from products', 'select * from processed_events', 'update outbox set sent_at = now()', 'delete from outbox']) {
        await expect(debezium.query(statement)).rejects.toMatchObject({ code: INSUFFICIENT_PRIVILEGE });
      }
    });

    it("give the service's role the tables of later migrations, and only it", async () => {
      await scratch.db.schema.createTable('later_table', (t) => t.integer('x'));
      const catalog = await as('catalog', scratch.name);
      await catalog.query('insert into later_table values (1)');
      expect((await catalog.query('select x from later_table')).rows).toEqual([{ x: 1 }]);
      for (const role of ['relay', 'debezium'] as const) {
        await expect((await as(role, scratch.name)).query('select * from later_table')).rejects.toMatchObject({ code: INSUFFICIENT_PRIVILEGE });
      }
    });

    it("let the relay drop a replication slot (a lost slot's connector is re-created), and no service", async () => {
      const slot = `pgroles_${scratch.name.slice(-12)}`;
      await scratch.db.raw("select pg_create_logical_replication_slot(?, 'pgoutput')", [slot]);
      const catalog = await as('catalog', scratch.name);
      await expect(catalog.query('select pg_drop_replication_slot($1)', [slot])).rejects.toMatchObject({ code: INSUFFICIENT_PRIVILEGE });
      await (await as('relay', scratch.name)).query('select pg_drop_replication_slot($1)', [slot]);
      expect(await scratch.db('pg_replication_slots').where({ slot_name: slot }).first()).toBeUndefined();
    });
  });
});
