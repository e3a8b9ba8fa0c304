import type { Knex } from 'knex';

export const name = '003_aggregate_versions';

export async function up(knex: Knex): Promise<void> {
  // product_version: the catalog product version the cached price came from (ProductCreated/ProductUpdated);
  // 0 for "none seen yet", so any versioned product event applies to an existing row. The order stream
  // already has its version (order_events.version); the outbox payloads now carry it.
  await knex.schema.alterTable('product_prices', (t) => {
    t.integer('product_version').notNullable().defaultTo(0);
  });
  await knex.raw('alter table product_prices add constraint product_prices_product_version_nonnegative check (product_version >= 0)');
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('product_prices', (t) => {
    t.dropColumn('product_version');
  });
}
