import type { Knex } from 'knex';

export const name = '002_aggregate_versions';

export async function up(knex: Knex): Promise<void> {
  // version: the order stream version the row's status came from (OrderPlaced 1, its outcome 2); the
  // projection moves a status only forward by version. Existing rows get the version their status implies
  // (a stream holds OrderPlaced, then at most one outcome), so a late OrderPlaced cannot undo an outcome.
  await knex.schema.alterTable('orders', (t) => {
    t.integer('version').notNullable().defaultTo(0);
  });
  await knex('orders').update({ version: knex.raw("case when status in ('Confirmed', 'Rejected') then 2 else 1 end") });
  await knex.raw('alter table orders add constraint orders_version_nonnegative check (version >= 0)');
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('orders', (t) => {
    t.dropColumn('version');
  });
}
