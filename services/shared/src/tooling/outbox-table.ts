// The outbox table, defined once: every outbox database's migrations call these. A use case writes its
// events to it in the transaction of its change (outbox/writer.ts); Debezium or the relay carries them
// to Kafka.
import type { Knex } from 'knex';
import { EVENTS } from '../events/registry';
import { OUTBOX_TABLE } from '../outbox/writer';

/** Aggregate types the registry knows: the only values the database accepts in `aggregatetype`. */
export const AGGREGATE_TYPES = [...new Set(Object.values(EVENTS).map((e) => e.aggregateType))].sort();

/**
 * The publication Debezium streams from, by database. The connector files name it (a unit test holds
 * them to this); the migration creates it for INSERTs only, so the relay's updates of `sent_at`,
 * `seen_at` and quarantine and the janitor's deletes never reach the connector.
 */
export const outboxPublicationOf = (database: string): string => `qtshop_${database}_outbox_publication`;

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

/**
 * Delivery confirmation and quarantine (docs/concepts.md "Delivery guarantee"; services/relay/src/confirmer.ts, batch.ts):
 * - `sent_at`: the row's record is on Kafka (published by the relay, or seen there by its confirmer);
 * - `seen_at`: when the confirmer first saw the record on its topic (a later sighting is a duplicate);
 * - `quarantined_at`/`quarantine_error`: the row cannot be published (unroutable, too large); nothing
 *   waits behind it, and `npm run outbox -- retry <id>` releases it after a fix.
 * The unsent index leaves quarantined rows out: relays never select them.
 */
export async function addOutboxDelivery(knex: Knex, table = OUTBOX_TABLE): Promise<void> {
  await knex.schema.alterTable(table, (t) => {
    t.timestamp('seen_at', { useTz: true }).nullable();
    t.timestamp('quarantined_at', { useTz: true }).nullable();
    t.text('quarantine_error').nullable();
  });
  await knex.raw('drop index if exists ??', [`${table}_unsent_idx`]);
  await knex.raw('create index ?? on ?? (position) where sent_at is null and quarantined_at is null', [`${table}_unsent_idx`, table]);
  await knex.raw('create index ?? on ?? (position) where quarantined_at is not null', [`${table}_quarantined_idx`, table]);
}

/**
 * `misrouted_at`: when the confirmer first saw the row's record on a wrong topic or with a wrong key (a
 * drifted connector, a hand-made record). That sighting does not confirm the row, so the repair publishes
 * it to its own topic; until then the relay's /ready names it. A column rather than the relay's memory: it
 * survives a restart (the confirmer resumes past the misrouted record and never sees it again) and every
 * relay of the database reads it, whichever one's confirmer saw the record. No index: the relay counts
 * these among the undelivered rows, which it reads anyway.
 */
export async function addOutboxMisrouted(knex: Knex, table = OUTBOX_TABLE): Promise<void> {
  await knex.schema.alterTable(table, (t) => {
    t.timestamp('misrouted_at', { useTz: true }).nullable();
  });
}

/** The migration every outbox database runs for misrouted records (addOutboxMisrouted). */
export const outboxMisroutedMigration = {
  up: (knex: Knex): Promise<void> => addOutboxMisrouted(knex),
  async down(knex: Knex): Promise<void> {
    await knex.schema.alterTable(OUTBOX_TABLE, (t) => t.dropColumn('misrouted_at'));
  },
};

/** The database refuses an aggregate type outside the registry (it would name a topic nobody reads). */
export async function restrictOutboxAggregateTypes(knex: Knex, table = OUTBOX_TABLE): Promise<void> {
  // DDL takes no bind parameters: knex renders the (registry's own) values as escaped literals.
  const ddl = knex.raw(`alter table ?? add constraint ?? check (aggregatetype in (${AGGREGATE_TYPES.map(() => '?').join(', ')}))`, [
    table,
    `${table}_aggregatetype_known`,
    ...AGGREGATE_TYPES,
  ]);
  await knex.raw(ddl.toQuery());
}

/** Creates the Debezium publication for INSERTs only, or narrows an existing one (Debezium made it for every operation). */
export async function createOutboxPublication(knex: Knex, table = OUTBOX_TABLE): Promise<void> {
  const { rows } = await knex.raw<{ rows: Array<{ db: string }> }>('select current_database() as db');
  const name = outboxPublicationOf(rows[0]!.db);
  const exists = await knex('pg_publication').where({ pubname: name }).first();
  if (exists) await knex.raw("alter publication ?? set (publish = 'insert')", [name]);
  else await knex.raw("create publication ?? for table ?? with (publish = 'insert')", [name, table]);
}

/** The migration every outbox database runs for delivery confirmation, repair and quarantine. */
export const outboxDeliveryMigration = {
  async up(knex: Knex): Promise<void> {
    await addOutboxDelivery(knex);
    await restrictOutboxAggregateTypes(knex);
    await createOutboxPublication(knex);
  },
  async down(knex: Knex): Promise<void> {
    await knex.raw('alter table ?? drop constraint if exists ??', [OUTBOX_TABLE, `${OUTBOX_TABLE}_aggregatetype_known`]);
    await knex.raw('drop index if exists ??', [`${OUTBOX_TABLE}_quarantined_idx`]);
    await knex.schema.alterTable(OUTBOX_TABLE, (t) => t.dropColumns('seen_at', 'quarantined_at', 'quarantine_error'));
  },
};
