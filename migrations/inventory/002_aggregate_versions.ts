import type { Knex } from 'knex';

export const name = '002_aggregate_versions';

export async function up(knex: Knex): Promise<void> {
  // version: the stock item's own version, carried by ProductQuantityUpdated: 1 when the row is created,
  // +1 per quantity change (set, reservation, release). Existing rows start at 1, so their next change is 2.
  // product_version: the catalog product version the name came from (ProductCreated/ProductUpdated); 0 for
  // "none seen yet", so any versioned product event applies to an existing row.
  await knex.schema.alterTable('product_inventory', (t) => {
    t.integer('version').notNullable().defaultTo(1);
    t.integer('product_version').notNullable().defaultTo(0);
  });
  await knex.raw(
    'alter table product_inventory add constraint product_inventory_version_positive check (version >= 1), add constraint product_inventory_product_version_nonnegative check (product_version >= 0)',
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('product_inventory', (t) => {
    t.dropColumn('product_version');
    t.dropColumn('version');
  });
}
