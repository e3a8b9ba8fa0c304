// How far behind the consumers are, read from Kafka alone (so a stopped consumer's lag is still seen):
// per consumer group its committed offsets (admin.fetchOffsets) against each partition's end
// (admin.fetchTopicOffsets); per dead-letter topic (<topic>.dlq) the messages not redriven yet. The relay
// exports both as metrics; `npm run status` prints them.
import type { Admin } from 'kafkajs';
import { dlqTopicOf, redriveGroupOf } from '../messaging/consumer/dead-letter';

export interface PartitionLag {
  topic: string;
  partition: number;
  /** The group's committed offset; null when it has committed none on this partition. */
  committed: string | null;
  /** The partition's end (high watermark). */
  end: string;
  /** Messages between the committed offset (or the oldest retained one) and the end. */
  lag: number;
}

export interface GroupLag {
  group: string;
  /** Kafka's group state: Stable, Empty (no member: nothing consumes), PreparingRebalance, Dead (unknown group), … */
  state: string;
  members: number;
  /** Every partition of every topic the group has committed offsets on, by topic and partition. */
  partitions: PartitionLag[];
  lag: number;
}

export interface DeadLetterDepth {
  /** The original topic; the dead letters are in `dlqTopic`. */
  topic: string;
  dlqTopic: string;
  exists: boolean;
  /** Messages retained in the dead-letter topic. */
  messages: number;
  /** Of those, the ones `npm run dlq -- redrive` has not republished yet. */
  pending: number;
}

type Ends = Array<{ partition: number; high: string; low: string }>;

/** Messages from `committed` (or from the oldest retained, when it is none or older) to `high`. */
export function lagOf(committed: string | null, low: string, high: string): number {
  const from = committed === null || BigInt(committed) < BigInt(low) ? BigInt(low) : BigInt(committed);
  const lag = BigInt(high) - from;
  return lag > 0n ? Number(lag) : 0;
}

/** Committed offsets of `groupId` against `ends`, per partition of `topic`. */
async function partitionLags(admin: Admin, groupId: string, topic: string, ends: Ends): Promise<PartitionLag[]> {
  const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
  return ends
    .map((e) => {
      const c = committed?.partitions.find((p) => p.partition === e.partition)?.offset;
      const has = c !== undefined && Number(c) >= 0 ? c : null;
      return { topic, partition: e.partition, committed: has, end: e.high, lag: lagOf(has, e.low, e.high) };
    })
    .sort((a, b) => a.partition - b.partition);
}

/** The lag of each group on every topic it has committed offsets on (its committed offsets name them). */
export async function observeConsumerGroups(admin: Admin, groups: string[]): Promise<GroupLag[]> {
  if (groups.length === 0) return [];
  const described = await admin.describeGroups(groups);
  const endsCache = new Map<string, Promise<Ends>>();
  const endsOf = (topic: string) => {
    if (!endsCache.has(topic)) endsCache.set(topic, admin.fetchTopicOffsets(topic));
    return endsCache.get(topic)!;
  };
  return Promise.all(
    groups.map(async (group) => {
      const d = described.groups.find((g) => g.groupId === group);
      const topics = (await admin.fetchOffsets({ groupId: group })).map((t) => t.topic).sort();
      const partitions = (await Promise.all(topics.map(async (t) => partitionLags(admin, group, t, await endsOf(t))))).flat();
      return { group, state: d?.state ?? 'Dead', members: d?.members.length ?? 0, partitions, lag: partitions.reduce((n, p) => n + p.lag, 0) };
    }),
  );
}

/** Depth of `<topic>.dlq` for each topic; a dead-letter topic that does not exist yet holds nothing. */
export async function observeDeadLetters(admin: Admin, topics: string[]): Promise<DeadLetterDepth[]> {
  const existing = new Set(await admin.listTopics());
  return Promise.all(
    topics.map(async (topic) => {
      const dlqTopic = dlqTopicOf(topic);
      if (!existing.has(dlqTopic)) return { topic, dlqTopic, exists: false, messages: 0, pending: 0 };
      const ends = await admin.fetchTopicOffsets(dlqTopic);
      const redriven = await partitionLags(admin, redriveGroupOf(topic), dlqTopic, ends);
      return {
        topic,
        dlqTopic,
        exists: true,
        messages: ends.reduce((n, e) => n + lagOf(null, e.low, e.high), 0),
        pending: redriven.reduce((n, p) => n + p.lag, 0),
      };
    }),
  );
}
