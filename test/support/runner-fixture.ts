// A consumer runner on a scratch database and topic, handling ProductQuantityUpdated by counting
// applications per product in an `effects` table: what the runner tests (and the crash child) use.
import type { Logger } from '@qtshop/shared/platform';
import type { Kafka, Knex } from '@qtshop/shared/infra';
import { createConsumerRunner, pgInbox, type ConsumerRunnerOptions } from '@qtshop/shared/messaging';
import { createInboxTable, inboxAuditMigration } from '@qtshop/shared/tooling';

export async function createEffectsTable(db: Knex): Promise<void> {
  // The inbox as the migrations leave it: the table, then its audit columns.
  await createInboxTable(db);
  await inboxAuditMigration.up(db);
  await db.schema.createTable('effects', (t) => {
    t.text('product_id').primary();
    t.integer('quantity').notNullable();
    t.integer('applied').notNullable();
  });
}

/** Runs inside the handler's transaction before its write: may throw, or hold the handler until it resolves. */
export type Behaviour = (productId: string) => void | Promise<void>;

export function effectsRunner(
  kafka: Kafka,
  db: Knex,
  log: Logger,
  opts: { groupId: string; topic: string; behaviour?: Behaviour } & Partial<ConsumerRunnerOptions<Knex.Transaction>>,
) {
  return createConsumerRunner<Knex.Transaction>({
    kafka,
    inbox: pgInbox(db),
    log,
    backoff: { initialMs: 20, maxMs: 100 },
    maxAttempts: 3,
    ...opts,
    topics: opts.topics ?? [opts.topic],
    handlers: {
      ProductQuantityUpdated: async (event, trx) => {
        await opts.behaviour?.(event.payload.productId);
        await trx('effects')
          .insert({ product_id: event.payload.productId, quantity: event.payload.quantity, applied: 1 })
          .onConflict('product_id')
          .merge({ quantity: event.payload.quantity, applied: trx.raw('effects.applied + 1') });
      },
    },
  });
}
