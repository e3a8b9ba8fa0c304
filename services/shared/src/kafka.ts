// Kafka clients (kafkajs). kafkajs 2.2.4 is unmaintained since 2023; test/stack/kafka.int.test.ts checks
// admin, produce with key and headers, and consumer groups against the stack's Kafka 4.1 broker.
import { Kafka, logLevel, type KafkaConfig, type KafkaMessage } from 'kafkajs';

export type { Kafka };
import type { Logger } from './logging';
import { waitUntil } from './wait';

export function createKafka(brokers: string[], clientId: string, log?: Logger, extra: Partial<KafkaConfig> = {}): Kafka {
  return new Kafka({
    clientId,
    brokers,
    logLevel: log ? logLevel.WARN : logLevel.NOTHING,
    ...(log
      ? {
          logCreator:
            () =>
            ({ level, log: entry }) => {
              const { message, ...rest } = entry;
              const fn = level <= logLevel.ERROR ? 'error' : level === logLevel.WARN ? 'warn' : 'debug';
              log[fn]({ kafkajs: rest }, message);
            },
        }
      : {}),
    ...extra,
  });
}

/** Kafka header values arrive as Buffers (or arrays of them); this reads one as a string. */
export function headerString(headers: Record<string, unknown> | undefined, name: string): string | undefined {
  const v = headers?.[name];
  const one = Array.isArray(v) ? v[0] : v;
  if (one === undefined || one === null) return undefined;
  return Buffer.isBuffer(one) ? one.toString('utf8') : String(one);
}

/** Creates the topics that do not exist yet and waits until every one has a leader (a no-op for ready ones). */
export async function ensureTopics(kafka: Kafka, topics: string[], numPartitions = -1): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = topics.filter((t) => !existing.has(t));
    if (missing.length > 0) {
      try {
        await admin.createTopics({ topics: missing.map((topic) => ({ topic, numPartitions })), waitForLeaders: true });
      } catch (err) {
        // Another client (or the broker's auto-creation) may have won the race; that is fine.
        if (!(err instanceof Error && /already exists/i.test(err.message + JSON.stringify((err as { errors?: unknown }).errors ?? '')))) throw err;
      }
    }
    // A topic created a moment ago (here or by a concurrent client) may not have its leaders yet.
    await waitUntil(async () => (await admin.fetchTopicMetadata({ topics })).topics.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0)), {
      timeoutMs: 30_000,
      what: `leaders for ${topics.join(', ')}`,
    });
  } finally {
    await admin.disconnect();
  }
}

/**
 * Reads a topic up to its high watermarks at call time: from the start, or (fromCommitted) from the
 * group's committed offsets, committing as it goes. For tools (DLQ, event viewer), not services.
 */
export async function readToEnd(kafka: Kafka, topic: string, groupId: string, fromCommitted: boolean, onMessage: (partition: number, m: KafkaMessage) => Promise<void>): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  const ends = await admin.fetchTopicOffsets(topic);
  let starts: Array<{ partition: number; offset: string }> = ends.map((e) => ({ partition: e.partition, offset: e.low }));
  if (fromCommitted) {
    const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
    starts = ends.map((e) => {
      const c = committed?.partitions.find((p) => p.partition === e.partition);
      return { partition: e.partition, offset: c && Number(c.offset) >= 0 ? c.offset : e.low };
    });
  }
  await admin.disconnect();
  const pending = new Map(ends.filter((e, i) => BigInt(e.high) > BigInt(starts[i]!.offset)).map((e) => [e.partition, BigInt(e.high)]));
  if (pending.size === 0) return;
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100 });
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    let done!: () => void;
    const finished = new Promise<void>((r) => (done = r));
    await consumer.run({
      autoCommit: fromCommitted,
      eachMessage: async ({ partition, message }) => {
        const end = pending.get(partition);
        if (end === undefined || BigInt(message.offset) >= end) return;
        await onMessage(partition, message);
        if (BigInt(message.offset) + 1n >= end) pending.delete(partition);
        if (pending.size === 0) done();
      },
    });
    for (const s of starts) consumer.seek({ topic, partition: s.partition, offset: s.offset });
    await finished;
  } finally {
    await consumer.disconnect();
  }
}

