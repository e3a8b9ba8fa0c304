// CDC smoke: the real Debezium PostgreSQL connector with the outbox EventRouter, configured as the
// catalog connector file says, on a scratch database; one row in, one clean Kafka record out.
import { randomUUID } from 'node:crypto';
import { waitUntil } from '@qtshop/shared/platform';
import { createDb, createKafka, loadInfra, type Knex } from '@qtshop/shared/infra';
import { ConnectClient } from '@qtshop/shared/delivery';
import { createdAtHeaderOf } from '../support/outbox';
import {
  addOutboxDelivery,
  addOutboxMisrouted,
  createOutboxPublication,
  createOutboxTable,
  grantDatabaseAccess,
  outboxPublicationOf,
  readConnector,
} from '@qtshop/shared/tooling';
import { TopicReader } from '../support/kafka';

const infra = loadInfra();
const connect = ConnectClient.of(infra.connect);
const kafka = createKafka(infra.kafka, 'test-cdc-smoke');

describe('Debezium outbox EventRouter (CDC smoke)', () => {
  const suffix = randomUUID().replace(/-/g, '').slice(0, 12);
  const database = `smoke_${suffix}`;
  const name = `smoke-${suffix}`;
  const slot = `smoke_${suffix}`;
  const admin = createDb(infra, 'postgres');
  let db: Knex;
  let reader: TopicReader | undefined;

  beforeAll(async () => {
    await admin.raw('create database ??', [database]);
    db = createDb(infra, database);
    await createOutboxTable(db);
    await addOutboxDelivery(db);
    await addOutboxMisrouted(db);
    // As the migrations make an outbox database: Debezium's role reads the outbox through a publication it does not own.
    await createOutboxPublication(db);
    await grantDatabaseAccess(db, { outbox: true });
  });

  afterAll(async () => {
    await reader?.stop();
    await connect.delete(name);
    // The slot stays active until the task has stopped; only then can it be dropped.
    await waitUntil(
      async () => {
        const row = await admin('pg_replication_slots').where({ slot_name: slot }).first('active');
        if (!row) return true;
        if (row.active) return false;
        await admin.raw('select pg_drop_replication_slot(?)', [slot]);
        return true;
      },
      { timeoutMs: 30_000, what: `slot ${slot} to be released and dropped` },
    );
    await db.destroy();
    await admin.raw('drop database if exists ?? with (force)', [database]);
    await admin.destroy();
  });

  it('routes an inserted outbox row to qtshop.<aggregatetype> with the aggregate id as key, id and eventType headers, and the bare JSON payload', async () => {
    const config = {
      ...readConnector('catalog-outbox'),
      name,
      'database.dbname': database,
      'slot.name': slot,
      'publication.name': outboxPublicationOf(database),
      'topic.prefix': name,
    };
    await connect.put(name, config);
    // snapshot.mode=no_data: only rows committed after the slot exists are streamed; wait for it.
    // The slot can be open a moment before Connect reports the task RUNNING: wait for both.
    await waitUntil(
      async () => (await admin('pg_replication_slots').where({ slot_name: slot, active: true }).first()) !== undefined && (await connect.isRunning(name)),
      {
        timeoutMs: 60_000,
        what: `connector ${name} to run and open its replication slot`,
      },
    );

    const aggregatetype = `smoke${suffix}`;
    const topic = `qtshop.${aggregatetype}`;
    const withTrace = { id: randomUUID(), traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' };
    const withoutTrace = { id: randomUUID(), traceparent: null };
    const payload = { productId: 'p-1', name: 'Kettle', price: 2599, tags: ['a', 'b'], nested: { ok: true }, description: null };
    for (const row of [withTrace, withoutTrace]) {
      await db('outbox').insert({ ...row, aggregatetype, aggregateid: 'p-1', type: 'ProductCreated', payload: JSON.stringify(payload) });
    }

    reader = await TopicReader.start(kafka, [topic]);
    const recs = await reader.waitFor(() => true, 2, 60_000);
    const first = recs.find((r) => r.headers.id === withTrace.id);
    const second = recs.find((r) => r.headers.id === withoutTrace.id);
    // Exactly these headers: Debezium's context headers are switched off (extended.headers.enabled=false);
    // traceparent is always placed, null when the row has none (the polling relay does the same);
    // createdAt is the row's created_at as the polling relay prints it too (createdAtHeaderSql).
    const createdAt = (id: string) => createdAtHeaderOf(db, id);
    expect(first).toMatchObject({ topic, key: 'p-1' });
    expect(first!.headers).toEqual({
      id: withTrace.id,
      eventType: 'ProductCreated',
      traceparent: withTrace.traceparent,
      createdAt: await createdAt(withTrace.id),
    });
    expect(second).toMatchObject({ topic, key: 'p-1' });
    expect(second!.headers).toEqual({ id: withoutTrace.id, eventType: 'ProductCreated', traceparent: null, createdAt: await createdAt(withoutTrace.id) });
    // The bare payload, null fields kept (table.json.payload.null.behavior=optional_bytes).
    expect(JSON.parse(first!.value!)).toEqual(payload);
    expect(JSON.parse(second!.value!)).toEqual(payload);
  }, 120_000);
});
