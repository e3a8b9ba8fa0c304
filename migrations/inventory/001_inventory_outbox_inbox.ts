import type { Knex } from 'knex';
import { createInboxTable, createOutboxTable } from '@qtshop/shared/tooling';

export const name = '001_inventory_outbox_inbox';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('product_inventory', (t) => {
    t.uuid('product_id').primary();
    t.text('name').notNullable();
    t.integer('quantity').notNullable().defaultTo(0);
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.raw('alter table product_inventory add constraint product_inventory_quantity_nonnegative check (quantity >= 0)');
  await createOutboxTable(knex);
  await createInboxTable(knex);
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('processed_events').dropTable('outbox').dropTable('product_inventory');
}
