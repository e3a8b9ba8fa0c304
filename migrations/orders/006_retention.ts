// The inbox is pruned past INBOX_RETENTION_MS by processed_at (inboxRetentionMigration), and idempotency
// keys past IDEMPOTENCY_KEY_RETENTION_MS by created_at: an index for each.
import type { Knex } from 'knex';
import { inboxRetentionMigration } from '@qtshop/shared/tooling';

export const name = '006_retention';

export async function up(knex: Knex): Promise<void> {
  await inboxRetentionMigration.up(knex);
  await knex.schema.alterTable('idempotency_keys', (t) => {
    t.index(['created_at'], 'idempotency_keys_created_at_idx');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('idempotency_keys', (t) => {
    t.dropIndex(['created_at'], 'idempotency_keys_created_at_idx');
  });
  await inboxRetentionMigration.down(knex);
}
