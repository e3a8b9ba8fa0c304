import type { Knex } from 'knex';
import { createInboxTable, createOutboxTable } from '@qtshop/shared/tooling';

export const name = '001_order_events_outbox_inbox';

export async function up(knex: Knex): Promise<void> {
  // The order event stream (event sourcing): append-only; (order_id, version) makes a concurrent append
  // at the same version fail instead of silently interleaving.
  await knex.schema.createTable('order_events', (t) => {
    t.uuid('order_id').notNullable();
    t.integer('version').notNullable();
    t.text('type').notNullable();
    t.jsonb('data').notNullable();
    t.timestamp('occurred_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.primary(['order_id', 'version']);
  });
  // A retried POST /orders with the same Idempotency-Key returns the order the first one placed.
  await knex.schema.createTable('idempotency_keys', (t) => {
    t.text('key').primary();
    t.text('request_hash').notNullable();
    t.uuid('order_id').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await createOutboxTable(knex);
  await createInboxTable(knex);
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('processed_events').dropTable('outbox').dropTable('idempotency_keys').dropTable('order_events');
}
