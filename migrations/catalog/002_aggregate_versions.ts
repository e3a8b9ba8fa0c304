import type { Knex } from 'knex';

export const name = '002_aggregate_versions';

export async function up(knex: Knex): Promise<void> {
  // version: the product's own version, carried by ProductCreated (1) and ProductUpdated (+1 each).
  // Existing products start at 1: their next update is 2, newer than anything a consumer holds.
  // stock_version: the inventory stock item version the quantity came from (ProductQuantityUpdated);
  // 0 for "none seen yet", so any versioned event applies to an existing row.
  await knex.schema.alterTable('products', (t) => {
    t.integer('version').notNullable().defaultTo(1);
    t.integer('stock_version').notNullable().defaultTo(0);
  });
  await knex.raw(
    'alter table products add constraint products_version_positive check (version >= 1), add constraint products_stock_version_nonnegative check (stock_version >= 0)',
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('products', (t) => {
    t.dropColumn('stock_version');
    t.dropColumn('version');
  });
}
