// What each PostgreSQL role may do in a database (docs/security.md "PostgreSQL roles"), granted by a migration of
// each database (migrations/<db>/*_role_grants.ts), run by the superuser or whoever owns the tables:
// - nobody connects but the roles named here (CONNECT revoked from PUBLIC, TEMPORARY too);
// - the owning service's role reads and writes every table of the schema, now and those of later
//   migrations (default privileges of the role running the migrations), never knex's own bookkeeping;
// - in an outbox database, the relay reads the outbox, marks its rows delivered or quarantined (those
//   columns only) and deletes old ones; Debezium reads it. Neither sees any other table.
// The roles are created NOLOGIN when missing: LOGIN, REPLICATION and passwords are the operator's (the
// local stack, the compose files), never a migration's. Statements take the role names from the fixed list
// of infra/pg-roles.ts and the database's name from the server, quoted by knex as identifiers.
import type { Knex } from 'knex';
import type { DatabaseName } from '../infra/addresses';
import type { PgRole, PgServiceRole } from '../infra/pg-roles';
import { OUTBOX_TABLE } from '../outbox/writer';

export interface DatabaseAccess {
  /** The service whose database it is: every table. */
  owner?: PgServiceRole | undefined;
  /** The database has an outbox table: the relay and Debezium get their share of it. */
  outbox: boolean;
}

/** Who may do what in each database of the shop. */
export const DATABASE_ACCESS: Record<DatabaseName, DatabaseAccess> = {
  catalog: { owner: 'catalog', outbox: true },
  inventory: { owner: 'inventory', outbox: true },
  orders: { owner: 'order_command', outbox: true },
  order_query: { owner: 'order_query', outbox: false },
};

/** The outbox columns the relay writes: sent_at (published, confirmed), seen_at and misrouted_at (the confirmer), the quarantine. */
export const RELAY_OUTBOX_COLUMNS = ['sent_at', 'seen_at', 'misrouted_at', 'quarantined_at', 'quarantine_error'] as const;

/** knex's own tables: the migrator's alone. */
const KNEX_TABLES = ['knex_migrations', 'knex_migrations_lock'];

const rolesOf = (access: DatabaseAccess): PgRole[] => [...(access.owner ? [access.owner] : []), ...(access.outbox ? (['relay', 'debezium'] as const) : [])];
const list = (n: number) => Array.from({ length: n }, () => '??').join(', ');

async function currentDatabase(knex: Knex): Promise<string> {
  const { rows } = await knex.raw<{ rows: Array<{ db: string }> }>('select current_database() as db');
  return rows[0]!.db;
}

/** Creates `role` NOLOGIN unless it exists (a concurrent migration of another database may create it first). */
export async function ensureRole(knex: Knex, role: PgRole): Promise<void> {
  if (await knex('pg_roles').where({ rolname: role }).first()) return;
  // A savepoint: inside the migration's transaction, a lost race must not abort the rest.
  await knex
    .transaction(async (trx) => {
      await trx.raw('create role ?? nologin', [role]);
    })
    .catch((err: { code?: string }) => {
      if (err.code !== '42710' && err.code !== '23505') throw err; // duplicate_object, unique_violation
    });
}

/** Grants `access` in the database `knex` is connected to (see the top of this file); re-runnable. */
export async function grantDatabaseAccess(knex: Knex, access: DatabaseAccess): Promise<void> {
  const roles = rolesOf(access);
  for (const role of roles) await ensureRole(knex, role);
  const db = await currentDatabase(knex);
  await knex.raw('revoke all on database ?? from public', [db]);
  if (roles.length > 0) {
    await knex.raw(`grant connect on database ?? to ${list(roles.length)}`, [db, ...roles]);
    await knex.raw(`grant usage on schema public to ${list(roles.length)}`, roles);
  }
  await knex.raw('revoke create on schema public from public');
  if (access.owner) {
    const owner = access.owner;
    await knex.raw('grant select, insert, update, delete on all tables in schema public to ??', [owner]);
    await knex.raw('grant usage, select on all sequences in schema public to ??', [owner]);
    await knex.raw('alter default privileges in schema public grant select, insert, update, delete on tables to ??', [owner]);
    await knex.raw('alter default privileges in schema public grant usage, select on sequences to ??', [owner]);
    for (const table of KNEX_TABLES) if (await knex.schema.hasTable(table)) await knex.raw('revoke all on ?? from ??', [table, owner]);
    const { rows } = await knex.raw<{ rows: Array<{ seq: string }> }>(
      `select c.relname as seq from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = 'public' and c.relkind = 'S' and c.relname like 'knex\\_migrations%'`,
    );
    for (const { seq } of rows) await knex.raw('revoke all on sequence ?? from ??', [seq, owner]);
  }
  if (access.outbox) {
    await knex.raw(`grant select, delete, update (${list(RELAY_OUTBOX_COLUMNS.length)}) on ?? to ??`, [...RELAY_OUTBOX_COLUMNS, OUTBOX_TABLE, 'relay']);
    await knex.raw('grant select on ?? to ??', [OUTBOX_TABLE, 'debezium']);
  }
}

/** Takes back what grantDatabaseAccess gave (the roles stay: other databases name them); PUBLIC may connect again. */
export async function revokeDatabaseAccess(knex: Knex, access: DatabaseAccess): Promise<void> {
  const roles = rolesOf(access);
  const db = await currentDatabase(knex);
  if (access.outbox) await knex.raw('revoke all on ?? from ??, ??', [OUTBOX_TABLE, 'relay', 'debezium']);
  if (access.owner) {
    const owner = access.owner;
    await knex.raw('alter default privileges in schema public revoke all on sequences from ??', [owner]);
    await knex.raw('alter default privileges in schema public revoke all on tables from ??', [owner]);
    await knex.raw('revoke all on all sequences in schema public from ??', [owner]);
    await knex.raw('revoke all on all tables in schema public from ??', [owner]);
  }
  if (roles.length > 0) {
    await knex.raw(`revoke usage on schema public from ${list(roles.length)}`, roles);
    await knex.raw(`revoke all on database ?? from ${list(roles.length)}`, [db, ...roles]);
  }
  await knex.raw('grant connect, temporary on database ?? to public', [db]);
}

/** The migration of a database's grants (DATABASE_ACCESS). */
export const databaseAccessMigration = (access: DatabaseAccess) => ({
  up: (knex: Knex): Promise<void> => grantDatabaseAccess(knex, access),
  down: (knex: Knex): Promise<void> => revokeDatabaseAccess(knex, access),
});
