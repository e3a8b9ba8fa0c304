import type { Knex } from 'knex';
import { createInboxTable, createOutboxTable } from '@qtshop/shared/tooling';

export const name = '001_products_outbox_inbox';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('products', (t) => {
    t.uuid('id').primary();
    t.text('name').notNullable();
    t.text('description').notNullable();
    t.text('type').notNullable();
    t.text('brand').notNullable();
    t.text('picture_url').notNullable();
    t.bigInteger('price').notNullable();
    t.integer('quantity').notNullable().defaultTo(0);
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.raw(
    'alter table products add constraint products_price_nonnegative check (price >= 0), add constraint products_quantity_nonnegative check (quantity >= 0)',
  );
  await createOutboxTable(knex);
  await createInboxTable(knex);
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('processed_events').dropTable('outbox').dropTable('products');
}
