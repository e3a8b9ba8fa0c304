// Reading a topic to its end, for tools (DLQ, event viewer), never for services.
import type { Kafka, KafkaMessage } from 'kafkajs';

export interface PartitionOffset {
  partition: number;
  offset: string;
}

/** Where each partition of a topic ends now (its high watermark): where a later readToEnd can start. */
export async function topicEnds(kafka: Kafka, topic: string): Promise<PartitionOffset[]> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return (await admin.fetchTopicOffsets(topic)).map((e) => ({ partition: e.partition, offset: e.high }));
  } finally {
    await admin.disconnect();
  }
}

/**
 * Reads a topic up to its high watermarks at call time: from the start, from the group's committed
 * offsets (committing as it goes), or from given offsets (those of `topicEnds` earlier: what came since).
 * For tools (DLQ, event viewer, chaos checks), not services.
 */
export async function readToEnd(
  kafka: Kafka,
  topic: string,
  groupId: string,
  from: 'start' | 'committed' | PartitionOffset[],
  onMessage: (partition: number, m: KafkaMessage) => Promise<void>,
  timeoutMs = 120_000,
): Promise<void> {
  const fromCommitted = from === 'committed';
  const admin = kafka.admin();
  await admin.connect();
  let ends: Awaited<ReturnType<typeof admin.fetchTopicOffsets>>;
  try {
    ends = await admin.fetchTopicOffsets(topic);
  } catch (err) {
    await admin.disconnect();
    throw err;
  }
  let starts: PartitionOffset[] = ends.map((e) => ({
    partition: e.partition,
    offset: Array.isArray(from) ? (from.find((f) => f.partition === e.partition)?.offset ?? e.low) : e.low,
  }));
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
    // A partition can end in records no message stands for: a transaction's commit or abort marker (the
    // polling relay publishes in transactions) or an aborted record. kafkajs skips them and reports the
    // offset it reached with each batch, also a batch of only such records: that is where it is done.
    const reached = (partition: number, lastOffset: string) => {
      const end = pending.get(partition);
      if (end === undefined || BigInt(lastOffset) + 1n < end) return;
      pending.delete(partition);
      if (pending.size === 0) done();
    };
    consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
      if (payload.topic === topic) reached(payload.partition, payload.lastOffset);
    });
    await consumer.run({
      autoCommit: fromCommitted,
      eachMessage: async ({ partition, message }) => {
        const end = pending.get(partition);
        if (end === undefined || BigInt(message.offset) >= end) return;
        await onMessage(partition, message);
        reached(partition, message.offset);
      },
    });
    for (const s of starts) consumer.seek({ topic, partition: s.partition, offset: s.offset });
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, fail) => {
      timer = setTimeout(() => fail(new Error(`reading ${topic} to its end took longer than ${timeoutMs} ms`)), timeoutMs);
    });
    await Promise.race([finished, deadline]).finally(() => clearTimeout(timer));
  } finally {
    await consumer.disconnect();
  }
}
