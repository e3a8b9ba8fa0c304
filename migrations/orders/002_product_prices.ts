import type { Knex } from 'knex';

export const name = '002_product_prices';

export async function up(knex: Knex): Promise<void> {
  // The prices order-command has seen on ProductCreated/ProductUpdated: an order line must name a
  // known product at its current price.
  await knex.schema.createTable('product_prices', (t) => {
    t.uuid('product_id').primary();
    t.bigInteger('price').notNullable();
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('product_prices');
}
