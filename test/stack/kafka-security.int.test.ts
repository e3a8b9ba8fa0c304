// The stack's brokers authenticate every client (SASL/SCRAM) and authorize it by the shop's ACLs
// (tooling/kafka-access.ts): a client without credentials, or with a wrong password, gets nothing; a
// service's principal reads the topics it consumes under its own group, and cannot write an outbox topic,
// another topic's dead letters, or read a topic it does not consume.
import { randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import { GiveUp, waitUntil } from '@qtshop/shared/platform';
import { createKafka, devPassword, loadInfra, type KafkaPrincipal } from '@qtshop/shared/infra';

const infra = loadInfra();
const auth = infra.kafka.sasl;
const as = (username: KafkaPrincipal | string, password = devPassword(username)): Kafka =>
  createKafka({ ...infra.kafka, sasl: auth && { ...auth, username, password } }, `test-kafka-security-${username}`, undefined, { retry: { retries: 1 } });

async function produce(kafka: Kafka, topic: string): Promise<void> {
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  try {
    await producer.send({ topic, messages: [{ key: 'k', value: JSON.stringify({ forged: true }) }] });
  } finally {
    await producer.disconnect();
  }
}

/** Joins `groupId` and fetches from `topic` once (records or none), or throws what the broker answered. */
async function fetchOnce(kafka: Kafka, topic: string, groupId: string): Promise<void> {
  const consumer = kafka.consumer({ groupId, retry: { retries: 0 } });
  let failure: unknown;
  consumer.on(consumer.events.CRASH, (e) => {
    failure = e.payload.error;
  });
  let fetched = false;
  consumer.on(consumer.events.FETCH, () => {
    fetched = true;
  });
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({ eachMessage: async () => {} });
    await waitUntil(
      async () => {
        if (failure) throw new GiveUp(String(failure));
        return fetched;
      },
      { timeoutMs: 30_000, what: `a fetch from ${topic}` },
    );
  } finally {
    await consumer.disconnect();
  }
}

describe('Kafka authentication and ACLs (the default KAFKA_SASL_MECHANISM)', () => {
  it('is on', () => {
    expect(auth?.mechanism).toMatch(/^scram-/);
  });

  it('refuses a client without credentials, and one with a wrong password', async () => {
    const anonymous = createKafka({ ...infra.kafka, sasl: undefined }, 'test-kafka-security-anonymous', undefined, { retry: { retries: 0 } });
    await expect(produce(anonymous, 'qtshop.product')).rejects.toThrow();
    await expect(produce(as('catalog', 'not-the-password'), 'qtshop.inventory.dlq')).rejects.toThrow(/SASL|authentication/i);
  });

  it("refuses a service writing an outbox topic or another topic's dead letters", async () => {
    const catalog = as('catalog');
    await expect(produce(catalog, 'qtshop.product')).rejects.toThrow(/not authorized/i);
    await expect(produce(catalog, 'qtshop.order')).rejects.toThrow(/not authorized/i);
    await expect(produce(catalog, 'qtshop.product.dlq')).rejects.toThrow(/not authorized/i);
    await expect(produce(as('order-query'), 'qtshop.inventory')).rejects.toThrow(/not authorized/i);
  });

  it('lets a service read the topics it consumes under its own group, and nothing else', async () => {
    await fetchOnce(as('catalog'), 'qtshop.inventory', `qtshop-catalog-test-${randomUUID()}`);
    await expect(fetchOnce(as('catalog'), 'qtshop.order', `qtshop-catalog-test-${randomUUID()}`)).rejects.toThrow(/not authorized/i);
    // A group refused its coordinator is what kafkajs reports as the coordinator not found.
    await expect(fetchOnce(as('catalog'), 'qtshop.inventory', `someone-else-${randomUUID()}`)).rejects.toThrow(/not authorized|group coordinator/i);
  }, 120_000);
});
