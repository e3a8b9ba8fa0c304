// The outbox table of DESIGN.md, defined once: every outbox database's migration calls this.
import type { Knex } from 'knex';

export const OUTBOX_TABLE = 'outbox';

export async function createOutboxTable(knex: Knex, table = OUTBOX_TABLE): Promise<void> {
  await knex.schema.createTable(table, (t) => {
    t.uuid('id').primary();
    t.bigIncrements('position', { primaryKey: false });
    t.text('aggregatetype').notNullable();
    t.text('aggregateid').notNullable();
    t.text('type').notNullable();
    t.jsonb('payload').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('sent_at', { useTz: true }).nullable();
    t.text('traceparent').nullable();
  });
  // The polling relay reads unsent rows in position order; the janitor deletes by age.
  await knex.raw('create index ?? on ?? (position) where sent_at is null', [`${table}_unsent_idx`, table]);
  await knex.raw('create index ?? on ?? (created_at)', [`${table}_created_at_idx`, table]);
}
