// The consumers' inbox (messaging/inbox/inbox.ts): one row per processed event id, inserted in the handler's
// transaction.
import type { Knex } from 'knex';
import { INBOX_TABLE } from '../messaging/inbox/inbox';

export async function createInboxTable(knex: Knex): Promise<void> {
  await knex.schema.createTable(INBOX_TABLE, (t) => {
    t.uuid('event_id').primary();
    t.text('event_type').notNullable();
    t.timestamp('processed_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
}

/**
 * What the inbox did with each event, for audits (`npm run chaos` checks from it that a consumer applied
 * each event once and an aggregate's versions in increasing order): the event's aggregate (its Kafka key),
 * the version it carried, and whether the handler applied it or found it stale. Rows from before stay null.
 */
export const inboxAuditMigration = {
  async up(knex: Knex): Promise<void> {
    await knex.schema.alterTable(INBOX_TABLE, (t) => {
      t.text('aggregate_id').nullable();
      t.integer('version').nullable();
      t.text('outcome').nullable();
    });
  },
  async down(knex: Knex): Promise<void> {
    await knex.schema.alterTable(INBOX_TABLE, (t) => {
      t.dropColumns('aggregate_id', 'version', 'outcome');
    });
  },
};

/** The index by which the services' pruner finds processed event ids past INBOX_RETENTION_MS (messaging/inbox/retention.ts). */
export const INBOX_PROCESSED_AT_INDEX = `${INBOX_TABLE}_processed_at_idx`;

export const inboxRetentionMigration = {
  async up(knex: Knex): Promise<void> {
    await knex.schema.alterTable(INBOX_TABLE, (t) => {
      t.index(['processed_at'], INBOX_PROCESSED_AT_INDEX);
    });
  },
  async down(knex: Knex): Promise<void> {
    await knex.schema.alterTable(INBOX_TABLE, (t) => {
      t.dropIndex(['processed_at'], INBOX_PROCESSED_AT_INDEX);
    });
  },
};
