// The basket service in-process for integration tests: its own MongoDB database and consumer group per
// test file (dropped on stop), plus helpers to publish the records an outbox would produce and to wait
// until the service has consumed them.
import { randomUUID } from 'node:crypto';
import { MongoClient, type Db } from 'mongodb';
import type { Kafka, Producer, RecordMetadata } from 'kafkajs';
import { waitUntil, type Logger } from '@qtshop/shared/platform';
import { createKafka, loadInfra } from '@qtshop/shared/infra';
import { outboxRecord } from '@qtshop/shared/outbox';
import { type EventPayload, type EventType } from '@qtshop/shared/events';
import { MONGO_INBOX } from '@qtshop/shared/messaging';
import { loadBasketConfig } from '../../services/basket/src/config';
import { startBasket, type BasketService } from '../../services/basket/src/service';
import { quiet } from './services';

export interface BasketForTest extends BasketService {
  url: string;
  /** The service's database, for assertions. */
  db: Db;
  groupId: string;
}

export async function basketForTest(env: Record<string, string> = {}, log: Logger = quiet): Promise<BasketForTest> {
  const suffix = randomUUID().replace(/-/g, '').slice(0, 12);
  const dbName = `basket_test_${suffix}`;
  const groupId = `qtshop-basket-test-${suffix}`;
  const svc = await startBasket(loadBasketConfig({ ...process.env, BASKET_DB: dbName, BASKET_GROUP: groupId, ...env }), log, 0);
  const infra = loadInfra();
  const client = new MongoClient(infra.mongo.url, { serverSelectionTimeoutMS: 5000 });
  await client.connect();
  const db = client.db(dbName);
  return {
    ...svc,
    url: `http://127.0.0.1:${svc.port}`,
    db,
    groupId,
    async stop() {
      await svc.stop();
      await db.dropDatabase();
      await client.close();
      const admin = createKafka(infra.kafka, 'test-basket-cleanup').admin();
      await admin.connect();
      await admin.deleteGroups([groupId]).catch(() => undefined); // the group is this test file's alone
      await admin.disconnect();
    },
  };
}

/** Produces the Kafka record the outbox row would become (both relays produce exactly this). */
export async function publishOutboxRow<T extends EventType>(
  producer: Producer,
  row: { id?: string; aggregatetype: 'product' | 'order'; aggregateid: string; type: T; payload: EventPayload<T> },
): Promise<{ id: string; meta: RecordMetadata }> {
  const id = row.id ?? randomUUID();
  const rec = outboxRecord({ id, aggregatetype: row.aggregatetype, aggregateid: row.aggregateid, type: row.type, payload: row.payload, traceparent: null });
  const [meta] = await producer.send({ topic: rec.topic, acks: -1, messages: [rec.message] });
  return { id, meta: meta! };
}

/** Waits until the service recorded the event id as processed (the MongoDB inbox does so after the effect). */
export function waitProcessed(db: Db, eventId: string, timeoutMs = 30_000) {
  return waitUntil(() => db.collection<{ _id: string }>(MONGO_INBOX).findOne({ _id: eventId }), { timeoutMs, what: `event ${eventId} processed by basket` });
}

/** Waits until the consumer group committed an offset past the record: it has been handled (applied or skipped). */
export async function waitConsumed(kafka: Kafka, groupId: string, meta: RecordMetadata, timeoutMs = 30_000): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await waitUntil(
      async () => {
        const [topic] = await admin.fetchOffsets({ groupId, topics: [meta.topicName] });
        const committed = topic?.partitions.find((p) => p.partition === meta.partition)?.offset;
        return committed !== undefined && BigInt(committed) > BigInt(meta.baseOffset!);
      },
      { timeoutMs, what: `group ${groupId} to commit past ${meta.topicName}[${meta.partition}]@${meta.baseOffset}` },
    );
  } finally {
    await admin.disconnect();
  }
}
