import { randomUUID } from 'node:crypto';
import { createKafka, loadInfra } from '@qtshop/shared/infra';
import { TopicReader } from '../support/kafka';

const infra = loadInfra();
const kafka = createKafka(infra.kafka, 'test-stack-kafka');

describe('kafkajs against the stack broker', () => {
  it('creates a topic, produces a keyed record with headers, and a consumer group reads it back intact', async () => {
    const topic = `test.kafka.${randomUUID()}`;
    const admin = kafka.admin();
    await admin.connect();
    try {
      const created = await admin.createTopics({ topics: [{ topic, numPartitions: 2 }], waitForLeaders: true });
      expect(created).toBe(true);
      expect(await admin.listTopics()).toContain(topic);
    } finally {
      await admin.disconnect();
    }

    const producer = kafka.producer({ idempotent: true });
    await producer.connect();
    const id = randomUUID();
    await producer.send({
      topic,
      acks: -1,
      messages: [{ key: 'agg-1', value: JSON.stringify({ hello: 'world' }), headers: { id, eventType: 'SomethingHappened' } }],
    });
    await producer.disconnect();

    const reader = await TopicReader.start(kafka, [topic]);
    try {
      const [rec] = await reader.waitFor((r) => r.headers.id === id);
      expect(rec).toMatchObject({ topic, key: 'agg-1', headers: { id, eventType: 'SomethingHappened' } });
      expect(JSON.parse(rec!.value!)).toEqual({ hello: 'world' });
    } finally {
      await reader.stop();
    }
  });
});
