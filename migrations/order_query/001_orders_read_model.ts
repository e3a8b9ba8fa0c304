import type { Knex } from 'knex';
import { createInboxTable } from '@qtshop/shared/tooling';

export const name = '001_orders_read_model';

export async function up(knex: Knex): Promise<void> {
  // The order read model (CQRS). Events may arrive for an order the projection has not seen yet
  // (OrderConfirmed before OrderPlaced): the row then exists with what is known, placed_at null.
  await knex.schema.createTable('orders', (t) => {
    t.uuid('order_id').primary();
    t.text('basket_id').nullable();
    t.text('status').notNullable();
    t.bigInteger('total').nullable();
    t.jsonb('items').nullable();
    t.text('reason').nullable();
    t.timestamp('placed_at', { useTz: true }).nullable();
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.raw('create index orders_status_idx on orders (status, updated_at desc)');
  await createInboxTable(knex);
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('processed_events').dropTable('orders');
}
