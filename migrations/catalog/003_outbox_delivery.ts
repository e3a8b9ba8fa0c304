import type { Knex } from 'knex';
import { addOutboxDelivery, createOutboxPublication, restrictOutboxAggregateTypes } from '@qtshop/shared';

export const name = '003_outbox_delivery';

// Delivery confirmation, repair and quarantine (issue 12): see addOutboxDelivery.
export async function up(knex: Knex): Promise<void> {
  await addOutboxDelivery(knex);
  await restrictOutboxAggregateTypes(knex);
  await createOutboxPublication(knex);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('alter table outbox drop constraint if exists outbox_aggregatetype_known');
  await knex.schema.alterTable('outbox', (t) => t.dropColumns('seen_at', 'quarantined_at', 'quarantine_error'));
}
