// Test helper: read a topic from the beginning with a fresh consumer group and collect what arrives.
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
