// The bench's own database (outbox table, publication, a trigger routing its events to their own topic)
// and its own topic, fresh for every benchmark.
import type { Kafka } from 'kafkajs';
import { waitUntil } from '@qtshop/shared/platform';
import { createDb, ensureTopics, type Infra } from '@qtshop/shared/infra';
import { OUTBOX_TABLE } from '@qtshop/shared/outbox';
import { addOutboxDelivery, addOutboxMisrouted, createOutboxPublication, createOutboxTable, grantDatabaseAccess } from '@qtshop/shared/tooling';

export async function prepareDatabase(infra: Infra, db: string, aggregatePrefix: string): Promise<void> {
  const admin = createDb(infra, 'postgres', { max: 1 });
  try {
    const exists = await admin('pg_database').where({ datname: db }).first();
    if (!exists) await admin.raw('create database ??', [db]);
  } finally {
    await admin.destroy();
  }
  const knex = createDb(infra, db, { max: 1 });
  try {
    if (!(await knex.schema.hasTable(OUTBOX_TABLE))) {
      await createOutboxTable(knex);
      await addOutboxDelivery(knex);
    }
    // A bench database made before the column existed is kept between runs: the relay reads the column.
    if (!(await knex.schema.hasColumn(OUTBOX_TABLE, 'misrouted_at'))) await addOutboxMisrouted(knex);
    // INSERTs only, as the shop's migrations make it: the confirmer's updates never reach Debezium.
    await createOutboxPublication(knex);
    // The relay and Debezium log in as their own roles: their rights as in an outbox database of the shop.
    await grantDatabaseAccess(knex, { outbox: true });
    await knex.raw('create extension if not exists pg_stat_statements');
    // The outbox writer derives the aggregate type (and so the topic) from the event type; this database's
    // trigger prefixes it, so the bench's events go to their own topic (qtshop.<db>.product) whichever
    // relay publishes them, and never reach the shop's consumers.
    await knex.raw(`create or replace function bench_route_outbox() returns trigger language plpgsql as $$
      begin new.aggregatetype := '${aggregatePrefix}' || new.aggregatetype; return new; end $$`);
    await knex.raw(`create or replace trigger bench_route_outbox before insert on ${OUTBOX_TABLE} for each row execute function bench_route_outbox()`);
    await knex.raw(`truncate ${OUTBOX_TABLE}`);
  } finally {
    await knex.destroy();
  }
}

/** Deletes and recreates the bench topic, so that a run reads only its own records from the beginning. */
export async function freshTopic(kafka: Kafka, topic: string): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    if ((await admin.listTopics()).includes(topic)) {
      await admin.deleteTopics({ topics: [topic], timeout: 30_000 });
      await waitUntil(async () => !(await admin.listTopics()).includes(topic), { timeoutMs: 30_000, what: `topic ${topic} to be deleted` });
    }
  } finally {
    await admin.disconnect();
  }
  await waitUntil(
    async () => {
      await ensureTopics(kafka, [topic], 3);
      return true;
    },
    { timeoutMs: 30_000, everyMs: 500, what: `topic ${topic} to be created` },
  );
}
