// Test helpers: read a topic from the beginning with a fresh consumer group and collect what arrives; a
// consumer group that starts at the topics' ends.
import { randomUUID } from 'node:crypto';
import type { Consumer, IHeaders, Kafka } from 'kafkajs';
import { waitUntil } from '@qtshop/shared/platform';
import { ensureTopics } from '@qtshop/shared/infra';

export interface Received {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  value: string | null;
  headers: Record<string, string | null>;
}

export function decodeHeaders(h: IHeaders | undefined): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  for (const [k, v] of Object.entries(h ?? {})) {
    const one = Array.isArray(v) ? v[0] : v;
    out[k] = one === undefined || one === null ? null : Buffer.isBuffer(one) ? one.toString('utf8') : String(one);
  }
  return out;
}

export class TopicReader {
  readonly received: Received[] = [];
  private constructor(private readonly consumer: Consumer) {}

  static async start(kafka: Kafka, topics: string[], groupId = `test-${randomUUID()}`): Promise<TopicReader> {
    const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100 });
    const reader = new TopicReader(consumer);
    await ensureTopics(kafka, topics);
    await consumer.connect();
    try {
      await consumer.subscribe({ topics, fromBeginning: true });
    } catch (err) {
      await consumer.disconnect();
      throw err;
    }
    await consumer.run({
      eachMessage: async ({ topic, partition, message }) => {
        reader.received.push({
          topic,
          partition,
          offset: message.offset,
          key: message.key?.toString('utf8') ?? null,
          value: message.value?.toString('utf8') ?? null,
          headers: decodeHeaders(message.headers),
        });
      },
    });
    return reader;
  }

  /** Waits until `n` records match `pred`, returns them in arrival order. */
  async waitFor(pred: (r: Received) => boolean, n = 1, timeoutMs = 30_000): Promise<Received[]> {
    return waitUntil(
      async () => {
        const hits = this.received.filter(pred);
        return hits.length >= n ? hits : undefined;
      },
      { timeoutMs, what: `${n} matching Kafka record(s)` },
    );
  }

  stop(): Promise<void> {
    return this.consumer.disconnect();
  }
}

/**
 * A consumer group of the test's own with its offsets committed at the topics' ends: a service given it
 * applies nothing published before it starts (from the beginning, e.g. every stock outcome of another
 * test's order would be dead-lettered by order-command as an order it does not know). A member joins, commits and leaves.
 */
export async function groupAtTheEnd(kafka: Kafka, topics: string[], prefix: string): Promise<string> {
  const groupId = `${prefix}-${randomUUID()}`;
  // On a fresh stack the topics may not exist yet (nothing has been published).
  await ensureTopics(kafka, topics);
  const admin = kafka.admin();
  await admin.connect();
  // A topic created a moment ago may not have its leaders yet (NOT_LEADER_OR_FOLLOWER): asked again until it has.
  const ends = await waitUntil(
    () => Promise.all(topics.map(async (topic) => ({ topic, partitions: await admin.fetchTopicOffsets(topic) }))).catch(() => undefined),
    { timeoutMs: 30_000, what: `the ends of ${topics.join(', ')}` },
  );
  await admin.disconnect();
  const consumer = kafka.consumer({ groupId });
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: topics });
    const joined = new Promise((resolve) => consumer.on(consumer.events.GROUP_JOIN, resolve));
    await consumer.run({ autoCommit: false, eachMessage: async () => undefined });
    await joined;
    await consumer.commitOffsets(ends.flatMap(({ topic, partitions }) => partitions.map((p) => ({ topic, partition: p.partition, offset: p.high }))));
  } finally {
    await consumer.disconnect();
  }
  return groupId;
}
