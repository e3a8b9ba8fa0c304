// Debezium mode's delivery confirmation (docs/concepts.md "Delivery guarantee"): the relay reads the outbox
// topics with its own consumer group and marks a row delivered (`sent_at`, `seen_at`) when it sees the
// row's own record: on the row's topic (qtshop.<aggregatetype>) keyed by its aggregate id, as outboxRecord
// builds it. The publication carries INSERTs only, so these updates never reach Debezium. A record whose
// row was already seen is a duplicate on the topic (a repair and Debezium both delivered it) and is
// counted; so is, after a relay crash, the short tail it re-reads from its last committed offset.
// A record carrying a row's id on another topic or with another key (a connector whose router drifted, a
// record made by hand) is misrouted: it confirms nothing. It is counted by the topic it was seen on, logged,
// and remembered on the row (`misrouted_at`), which the repair then publishes to its own topic; until then
// the relay's /ready names it (supervisor.ts).
// Offsets are committed only after the rows are marked, so a crash never leaves a row unconfirmed for
// good: at worst the repairer publishes it once more.
import type { Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import { isUuid, waitUntil, type Logger } from '@qtshop/shared/platform';
import { ensureTopics, headerString, type Knex } from '@qtshop/shared/infra';
import { TOPIC_PREFIX, topicOf } from '@qtshop/shared/events';
import { OUTBOX_TABLE } from '@qtshop/shared/outbox';
import type { RelayMetrics } from './metrics';

// One statement per batch and database: the sightings (id, key) of the batch's topic joined on their rows.
// The rows are locked first, in id order (two confirmers meeting the same rows, in a rebalance or through
// a misrouted copy on another topic, wait for each other rather than deadlock), and read as they are then,
// so each confirmation and each first misrouting is decided, and counted, once. Nothing else is written.
const CONFIRM = `with sighted as (
    select o.id, o.type, o.aggregatetype, o.aggregateid, s.key, o.sent_at is not null as delivered,
      o.seen_at is null as unseen, o.misrouted_at is null as unflagged,
      (?::text || o.aggregatetype) = ?::text and o.aggregateid is not distinct from s.key as routed
    from ${OUTBOX_TABLE} o join unnest(?::uuid[], ?::text[]) as s(id, key) on s.id = o.id
    order by o.id
    for update of o),
  verdict as (
    select id, bool_or(routed) and bool_and(unseen) as confirm, bool_or(not routed) and bool_and(unflagged) as flag
    from sighted group by id),
  marked as (
    update ${OUTBOX_TABLE} o set
      seen_at = case when v.confirm then now() else o.seen_at end,
      sent_at = case when v.confirm then coalesce(o.sent_at, now()) else o.sent_at end,
      misrouted_at = case when v.flag then now() else o.misrouted_at end
    from verdict v where o.id = v.id and (v.confirm or v.flag))
  select id, type, aggregatetype, aggregateid, key, routed, unseen, delivered from sighted`;

interface Sighted {
  id: string;
  type: string;
  aggregatetype: string;
  aggregateid: string;
  key: string | null;
  /** Seen on its own topic with its own key. */
  routed: boolean;
  /** Not confirmed before this batch. */
  unseen: boolean;
  delivered: boolean;
}

export interface ConfirmerOptions {
  kafka: Kafka;
  groupId: string;
  topics: string[];
  /** The outbox databases served, by name. A record's row is looked for in each (ids are UUIDs). */
  dbs: Map<string, Knex>;
  /** Fetch tuning: bytes to wait for, and how long at most (confirmation is not on the latency path). */
  fetch: { minBytes: number; maxWaitTimeInMs: number };
  log: Logger;
  metrics: RelayMetrics;
}

/** A record of a batch, as the confirmer matches it with a row: its event id and its key. */
export interface Sighting {
  id: string;
  key: string | null;
}

/** The sightings of a batch's records (records without a UUID `id` header are not outbox records). */
export function sightingsOf(messages: Array<{ key?: Buffer | null; headers?: Record<string, unknown> | undefined }>): Sighting[] {
  const out: Sighting[] = [];
  for (const m of messages) {
    const id = headerString(m.headers, 'id');
    if (isUuid(id)) out.push({ id: id.toLowerCase(), key: m.key ? m.key.toString('utf8') : null });
  }
  return out;
}

export class Confirmer {
  private readonly consumer: Consumer;
  private readonly log: Logger;
  private endsAtStart: Array<{ topic: string; partition: number; high: string }> = [];
  private caughtUpOnce = false;

  constructor(private readonly opts: ConfirmerOptions) {
    this.log = opts.log.child({ worker: 'confirmer' });
    this.consumer = opts.kafka.consumer({ groupId: opts.groupId, ...opts.fetch, retry: { retries: 10 } });
    // Exported at 0 from the start, so that the first misrouted record is an increase to the alert rule.
    for (const database of opts.dbs.keys()) for (const topic of opts.topics) opts.metrics.misrouted.inc({ database, topic }, 0);
  }

  async start(): Promise<void> {
    await ensureTopics(this.opts.kafka, this.opts.topics); // kafkajs cannot subscribe to a topic that does not exist yet
    const admin = this.opts.kafka.admin();
    await admin.connect();
    try {
      // Retried: a topic created a moment ago (on a new broker) may answer NOT_LEADER for a while.
      this.endsAtStart = await waitUntil(
        async () => {
          const ends: typeof this.endsAtStart = [];
          for (const topic of this.opts.topics) {
            for (const p of await admin.fetchTopicOffsets(topic)) if (p.high !== p.low) ends.push({ topic, partition: p.partition, high: p.high });
          }
          return ends;
        },
        { timeoutMs: 30_000, everyMs: 250, what: 'the ends of the outbox topics' },
      );
    } finally {
      await admin.disconnect();
    }
    await this.consumer.connect();
    // From the beginning the first time (a new group): every row still in an outbox gets confirmed rather
    // than repaired. Later starts resume from the committed offsets.
    await this.consumer.subscribe({ topics: this.opts.topics, fromBeginning: true });
    await this.consumer.run({ eachBatchAutoResolve: false, autoCommit: true, eachBatch: (b) => this.confirmBatch(b) });
    this.log.info({ groupId: this.opts.groupId, topics: this.opts.topics }, 'confirming outbox rows seen on Kafka');
  }

  async stop(): Promise<void> {
    await this.consumer.disconnect();
  }

  /**
   * True once the group's committed offsets reached the topics' ends as they were at start: every record
   * on Kafka then has confirmed its row, and what is still unconfirmed really is missing. The repairer
   * waits for this, so a relay starting on a long history (or an upgrade, where no row was ever
   * confirmed) does not republish rows Debezium delivered long ago.
   */
  async caughtUp(): Promise<boolean> {
    if (this.caughtUpOnce) return true;
    const admin = this.opts.kafka.admin();
    await admin.connect();
    try {
      const committed = await admin.fetchOffsets({ groupId: this.opts.groupId, topics: [...new Set(this.endsAtStart.map((e) => e.topic))] });
      const at = new Map(committed.flatMap((t) => t.partitions.map((p) => [`${t.topic}/${p.partition}`, BigInt(p.offset)] as const)));
      this.caughtUpOnce = this.endsAtStart.every((e) => (at.get(`${e.topic}/${e.partition}`) ?? -1n) >= BigInt(e.high));
    } finally {
      await admin.disconnect();
    }
    if (this.caughtUpOnce) this.log.info({ partitions: this.endsAtStart.length }, 'confirmer caught up with the outbox topics; repair enabled');
    return this.caughtUpOnce;
  }

  private async confirmBatch({ batch, resolveOffset, heartbeat, commitOffsetsIfNecessary }: EachBatchPayload): Promise<void> {
    const all = sightingsOf(batch.messages);
    const unique = [...new Map(all.map((s) => [JSON.stringify([s.id, s.key]), s])).values()];
    if (unique.length > 0) {
      const { duplicates } = await this.confirm(batch.topic, unique);
      const inBatch = all.length - unique.length; // the same record twice within the batch
      if (duplicates + inBatch > 0)
        this.log.debug({ topic: batch.topic, partition: batch.partition, duplicates: duplicates + inBatch }, 'records of rows already confirmed');
    }
    // The batch's last offset, past a trailing transaction marker too (the repair publishes in transactions).
    if (batch.messages.length > 0) resolveOffset(batch.lastOffset());
    await commitOffsetsIfNecessary();
    await heartbeat();
  }

  /**
   * Marks delivered, in every database, the rows seen here on their own topic with their own key, and
   * marks misrouted those seen otherwise; counts confirmations, duplicates and misrouted records.
   */
  private async confirm(topic: string, seen: Sighting[]): Promise<{ duplicates: number }> {
    let duplicates = 0;
    // A record without a key goes as NULL in the array (knex's types know no null elements; pg sends them).
    const params = [TOPIC_PREFIX, topic, seen.map((s) => s.id), seen.map((s) => s.key) as string[]];
    await Promise.all(
      [...this.opts.dbs].map(async ([database, db]) => {
        const { rows } = await db.raw<{ rows: Sighted[] }>(CONFIRM, params);
        const confirmed = new Set(rows.filter((r) => r.routed && r.unseen).map((r) => r.id)).size;
        const repeated = new Set(rows.filter((r) => r.routed && !r.unseen).map((r) => r.id)).size;
        if (confirmed > 0) this.opts.metrics.confirmed.inc({ database }, confirmed);
        if (repeated > 0) this.opts.metrics.duplicates.inc({ database }, repeated);
        duplicates += repeated;
        for (const r of rows.filter((x) => !x.routed)) this.misrouted(database, topic, r);
      }),
    );
    return { duplicates };
  }

  private misrouted(database: string, topic: string, r: Sighted): void {
    this.opts.metrics.misrouted.inc({ database, topic });
    this.log.warn(
      {
        database,
        eventId: r.id,
        eventType: r.type,
        topic,
        key: r.key,
        expected: { topic: topicOf(r.aggregatetype), key: r.aggregateid },
        delivered: r.delivered,
      },
      r.delivered
        ? 'record of an outbox row on a wrong topic or with a wrong key (the row was delivered already)'
        : 'record of an outbox row on a wrong topic or with a wrong key: not a delivery; the repair publishes the row to its own topic',
    );
  }
}
