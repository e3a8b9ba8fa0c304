// Debezium mode's delivery confirmation (DESIGN.md "Confirmation and repair"): the relay reads the outbox
// topics with its own consumer group and marks each row whose record it sees as delivered (`sent_at`,
// `seen_at`). The publication carries INSERTs only, so these updates never reach Debezium. A record whose
// row was already seen is a duplicate on the topic (a repair and Debezium both delivered it) and is
// counted; so is, after a relay crash, the short tail it re-reads from its last committed offset.
// Offsets are committed only after the rows are marked, so a crash never leaves a row unconfirmed for
// good: at worst the repairer publishes it once more.
import type { Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import { ensureTopics, headerString, OUTBOX_TABLE, waitUntil, type Knex, type Logger } from '@qtshop/shared';
import type { RelayMetrics } from './metrics';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const CONFIRM = `update ${OUTBOX_TABLE} set seen_at = now(), sent_at = coalesce(sent_at, now())
  where id = any(?::uuid[]) and seen_at is null returning id`;
const EXISTING = `select id from ${OUTBOX_TABLE} where id = any(?::uuid[])`;

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

/** The event ids of a batch's records (records without a UUID `id` header are not outbox records). */
export function eventIds(messages: Array<{ headers?: Record<string, unknown> | undefined }>): string[] {
  const ids: string[] = [];
  for (const m of messages) {
    const id = headerString(m.headers, 'id');
    if (id && UUID.test(id)) ids.push(id.toLowerCase());
  }
  return ids;
}

export class Confirmer {
  private readonly consumer: Consumer;
  private readonly log: Logger;
  private endsAtStart: Array<{ topic: string; partition: number; high: string }> = [];
  private caughtUpOnce = false;

  constructor(private readonly opts: ConfirmerOptions) {
    this.log = opts.log.child({ worker: 'confirmer' });
    this.consumer = opts.kafka.consumer({ groupId: opts.groupId, ...opts.fetch, retry: { retries: 10 } });
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
    const all = eventIds(batch.messages);
    const unique = [...new Set(all)];
    if (unique.length > 0) {
      const found = await this.confirm(unique);
      const { duplicates } = found;
      const inBatch = all.length - unique.length; // the same id twice within the batch
      if (duplicates + inBatch > 0)
        this.log.debug({ topic: batch.topic, partition: batch.partition, duplicates: duplicates + inBatch }, 'records of rows already confirmed');
    }
    // The batch's last offset, past a trailing transaction marker too (the repair publishes in transactions).
    if (batch.messages.length > 0) resolveOffset(batch.lastOffset());
    await commitOffsetsIfNecessary();
    await heartbeat();
  }

  /** Marks the rows of `ids` delivered in every database; counts confirmations and duplicates per database. */
  private async confirm(ids: string[]): Promise<{ confirmed: number; duplicates: number }> {
    let confirmed = 0;
    let duplicates = 0;
    const unseen = new Set(ids);
    await Promise.all(
      [...this.opts.dbs].map(async ([database, db]) => {
        const { rows } = await db.raw<{ rows: Array<{ id: string }> }>(CONFIRM, [ids]);
        for (const r of rows) unseen.delete(r.id);
        confirmed += rows.length;
        if (rows.length > 0) this.opts.metrics.confirmed.inc({ database }, rows.length);
      }),
    );
    if (unseen.size > 0) {
      // Ids not confirmed now: rows seen before (duplicates), or rows no longer (or never) in these outboxes.
      const rest = [...unseen];
      await Promise.all(
        [...this.opts.dbs].map(async ([database, db]) => {
          const { rows } = await db.raw<{ rows: Array<{ id: string }> }>(EXISTING, [rest]);
          duplicates += rows.length;
          if (rows.length > 0) this.opts.metrics.duplicates.inc({ database }, rows.length);
        }),
      );
    }
    return { confirmed, duplicates };
  }
}
