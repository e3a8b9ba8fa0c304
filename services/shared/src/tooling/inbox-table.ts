// The consumers' inbox (DESIGN.md): one row per processed event id, inserted in the handler's transaction.
import type { Knex } from 'knex';
import { INBOX_TABLE } from '../consumer';

export async function createInboxTable(knex: Knex): Promise<void> {
  await knex.schema.createTable(INBOX_TABLE, (t) => {
    t.uuid('event_id').primary();
    t.text('event_type').notNullable();
    t.timestamp('processed_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
}
