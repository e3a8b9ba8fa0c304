import type { Knex } from 'knex';

export const name = '004_customer';

export async function up(knex: Knex): Promise<void> {
  // The customer who placed the order (OrderPlaced's customerId): a shopper lists and reads only their own
  // orders. Null for orders placed before shoppers had identities, and while only an outcome has arrived.
  await knex.schema.alterTable('orders', (t) => {
    t.text('customer_id').nullable();
  });
  await knex.raw('create index orders_customer_idx on orders (customer_id, updated_at desc, order_id)');
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('orders', (t) => {
    t.dropColumn('customer_id');
  });
}
