import type { Knex } from 'knex';

export const name = '005_stock_decisions';

// The stock decision is an aggregate of its own, keyed by order id (docs/concepts.md "Events and versions"): one per
// order, taken once whatever the number of OrderPlaced deliveries, under any event id (a record published
// again under a new id would otherwise reserve the stock twice). Decisions taken before this table existed
// are taken over from the outbox rows the janitor has not deleted yet.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('stock_decisions', (t) => {
    t.uuid('order_id').primary();
    t.integer('version').notNullable();
    t.timestamp('decided_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.raw(
    `insert into stock_decisions (order_id, version, decided_at)
     select distinct on (aggregateid) aggregateid::uuid, 1, created_at from outbox
     where type in ('OrderStockReserved', 'OrderStockRejected') order by aggregateid, created_at
     on conflict do nothing`,
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('stock_decisions');
}
