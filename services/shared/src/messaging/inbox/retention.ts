// Retention: what a service keeps only for a while, deleted by the service that owns it. Each
// service runs one Pruner over its own tables, as no service touches another's database (docs/architecture.md
// "Databases"): the inbox of processed event ids in every consumer, and order-command's idempotency keys.
// The relay's janitor does the same for delivered outbox rows (services/relay/src/janitor.ts,
// OUTBOX_RETENTION_MS).
//
// How long the inbox must keep an id: as long as the same event can reach the consumer again. Everything
// reaches a consumer through Kafka, so the window is set by how long Kafka holds a record: a segment is
// deleted once its newest record is older than retention.ms, and a segment takes records for up to
// segment.ms, so a record lives up to retention.ms + segment.ms (7 + 7 days with Kafka's defaults, which
// the local stack and compose keep). The longest path is a dead letter: the event waits on its topic for a
// consumer that dead-letters it, waits on <topic>.dlq for a redrive, and the redriven copy (same id) lives
// on the topic again, where a consumer that applied the first copy long ago meets it: three lifetimes,
// 42 days by default. INBOX_RETENTION_MS defaults to 45 days, above that; the pruner reads retention.ms
// and segment.ms of the service's topics and their dead-letter topics from Kafka on every run and deletes
// no inbox row while the retention is not above the window they give (retention_skipped says so).
//
// Past the window, versions still guard: an id the inbox forgot arrives as an event whose aggregate
// version the consumer already holds (held versions never go down), so it is stale; and the effects that
// must happen once per order have records of their own that are never pruned (inventory's
// stock_decisions, the basket's ordered_baskets, the order's own stream in order-command).
import type { ConfigResourceTypes, Kafka } from 'kafkajs';
import type { Knex } from 'knex';
import type { Db } from 'mongodb';
import { Counter, Gauge, type Registry } from 'prom-client';
import { env } from '../../platform/config';
import { dlqTopicOf } from '../consumer/dead-letter';
import { INBOX_TABLE } from './inbox';
import type { Logger } from '../../platform/logging';
import { Loop } from '../../platform/loop';
import { MONGO_INBOX } from './mongo';

export const DAY_MS = 86_400_000;

/** kafkajs's ConfigResourceTypes.TOPIC: its enum is not an ES named export of the CommonJS module node loads. */
const TOPIC_RESOURCE = 2 as ConfigResourceTypes;

/** Rows one DELETE removes at most; a run repeats it until fewer are left. */
export const PRUNE_BATCH = 10_000;

export const retentionSettings = {
  INBOX_RETENTION_MS: {
    doc: 'processed event ids (the inbox) older than this are deleted. Must exceed the longest redelivery window, three lifetimes of a Kafka record (topic, dead-letter topic, topic again after a redrive; a lifetime is retention.ms + segment.ms, 7 + 7 days by default): the service reads them from Kafka and prunes no inbox row while this is not longer',
    default: String(45 * DAY_MS),
    schema: env.int(1),
  },
  RETENTION_INTERVAL_MS: { doc: 'pause between runs of the pruner (inbox, idempotency keys)', default: '600000', schema: env.int(100) },
};

/** Calls `deleteBatch(limit)` until it deletes fewer than `limit` rows; returns the total deleted. */
export async function deleteInBatches(deleteBatch: (limit: number) => Promise<number>, limit: number): Promise<number> {
  let total = 0;
  for (;;) {
    const n = await deleteBatch(limit);
    total += n;
    if (n < limit) return total;
  }
}

/** Something a pruner keeps for `retentionMs`. */
export interface RetentionTarget {
  /** The table or collection: the `table` label of the metrics and logs. */
  table: string;
  retentionMs: number;
  /** Deletes up to `limit` rows older than `retentionMs`; returns how many. */
  deleteBatch(retentionMs: number, limit: number): Promise<number>;
  /** The shortest safe retention, read at every run (the inbox: the redelivery window); nothing is deleted while retentionMs is not above it. */
  floorMs?: () => Promise<number>;
}

/** A PostgreSQL table whose rows are dated by `timeColumn` (by the database's clock) and keyed by `keyColumn`. */
export function pgRetention(
  db: Knex,
  opts: { table: string; keyColumn: string; timeColumn: string; retentionMs: number; floorMs?: () => Promise<number> },
): RetentionTarget {
  const { table, keyColumn, timeColumn } = opts;
  return {
    table,
    retentionMs: opts.retentionMs,
    ...(opts.floorMs ? { floorMs: opts.floorMs } : {}),
    async deleteBatch(retentionMs, limit) {
      // skip locked: another replica of the service pruning at the same moment takes other rows.
      const res = await db.raw<{ rowCount: number | null }>(
        `delete from ?? where ?? in (select ?? from ?? where ?? < now() - make_interval(secs => ?::double precision) limit ? for update skip locked)`,
        [table, keyColumn, keyColumn, table, timeColumn, retentionMs / 1000, limit],
      );
      return res.rowCount ?? 0;
    },
  };
}

/** The PostgreSQL inbox (processed_events, dated by processed_at). */
export const pgInboxRetention = (db: Knex, retentionMs: number, floorMs?: () => Promise<number>): RetentionTarget =>
  pgRetention(db, { table: INBOX_TABLE, keyColumn: 'event_id', timeColumn: 'processed_at', retentionMs, ...(floorMs ? { floorMs } : {}) });

/** The MongoDB inbox (processed_events, dated by processedAt, written with the service's clock). */
export function mongoInboxRetention(db: Db, retentionMs: number, floorMs?: () => Promise<number>): RetentionTarget {
  const col = db.collection<{ _id: string; processedAt: Date }>(MONGO_INBOX);
  return {
    table: MONGO_INBOX,
    retentionMs,
    ...(floorMs ? { floorMs } : {}),
    async deleteBatch(ms, limit) {
      const old = await col
        .find({ processedAt: { $lt: new Date(Date.now() - ms) } }, { projection: { _id: 1 } })
        .limit(limit)
        .toArray();
      if (old.length === 0) return 0;
      await col.deleteMany({ _id: { $in: old.map((d) => d._id) } });
      return old.length;
    },
  };
}

/** The index the MongoDB inbox's pruning reads by (the PostgreSQL ones come with the migrations). */
export async function ensureMongoInboxIndexes(db: Db): Promise<void> {
  await db.collection(MONGO_INBOX).createIndex({ processedAt: 1 }, { name: 'processedAt' });
}

/** How long a record of this topic can stay readable: retention.ms + segment.ms (Infinity when retention.ms is -1). */
export const recordLifetimeMs = (config: { retentionMs: number; segmentMs: number }): number =>
  config.retentionMs < 0 ? Infinity : config.retentionMs + config.segmentMs;

/**
 * The longest time after a consumer processed an event in which the same event (same id) can reach it
 * again from Kafka: its life on the topic, on the topic's dead-letter topic, and on the topic once more
 * after a redrive. Read from the topics' retention.ms and segment.ms (broker defaults included).
 */
export async function redeliveryWindowMs(kafka: Kafka, topics: string[]): Promise<number> {
  const names = [...new Set([...topics, ...topics.map(dlqTopicOf)])];
  const admin = kafka.admin();
  await admin.connect();
  try {
    const { resources } = await admin.describeConfigs({
      includeSynonyms: false,
      resources: names.map((name) => ({ type: TOPIC_RESOURCE, name, configNames: ['retention.ms', 'segment.ms'] })),
    });
    const lifetime = new Map<string, number>();
    for (const r of resources) {
      if (r.errorCode !== 0) throw new Error(`cannot read the configuration of topic ${r.resourceName}: ${r.errorMessage ?? `error ${r.errorCode}`}`);
      const value = (name: string) => Number(r.configEntries.find((e) => e.configName === name)?.configValue);
      lifetime.set(r.resourceName, recordLifetimeMs({ retentionMs: value('retention.ms'), segmentMs: value('segment.ms') }));
    }
    const life = (topic: string) => {
      const ms = lifetime.get(topic);
      if (ms === undefined || Number.isNaN(ms)) throw new Error(`Kafka did not report retention.ms and segment.ms of topic ${topic}`);
      return ms;
    };
    return Math.max(...topics.map((t) => 2 * life(t) + life(dlqTopicOf(t))));
  } finally {
    await admin.disconnect();
  }
}

export interface PrunerOptions {
  targets: RetentionTarget[];
  intervalMs: number;
  log: Logger;
  registry: Registry;
  batchSize?: number;
}

/** Deletes each target's rows past its retention, every interval, in bounded batches. */
export class Pruner {
  private readonly loop: Loop;
  private readonly log: Logger;
  private readonly pruned: Counter<'table'>;
  private readonly errors: Counter<'table'>;
  private readonly skipped: Gauge<'table'>;
  private readonly lastProblem = new Map<string, string>();

  constructor(private readonly opts: PrunerOptions) {
    this.log = opts.log.child({ worker: 'pruner' });
    const registers = [opts.registry];
    this.pruned = new Counter({ name: 'retention_pruned_rows_total', help: 'Rows deleted past their retention, by table', labelNames: ['table'], registers });
    this.errors = new Counter({ name: 'retention_errors_total', help: 'Pruning runs that failed, by table', labelNames: ['table'], registers });
    this.skipped = new Gauge({
      name: 'retention_skipped',
      help: "1 while a table is not pruned because its retention is not above its floor (the inbox: Kafka's redelivery window)",
      labelNames: ['table'],
      registers,
    });
    for (const t of opts.targets) {
      this.pruned.inc({ table: t.table }, 0);
      this.skipped.set({ table: t.table }, 0);
    }
    this.loop = Loop.every(
      opts.intervalMs,
      () => this.runOnce(),
      () => undefined,
    );
  }

  start(): void {
    this.loop.start();
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }

  /** One run over every target; returns the rows deleted by table. A failing target does not stop the others. */
  async runOnce(): Promise<Record<string, number>> {
    const deleted: Record<string, number> = {};
    for (const target of this.opts.targets) {
      try {
        deleted[target.table] = await this.prune(target);
      } catch (err) {
        deleted[target.table] = 0;
        this.errors.inc({ table: target.table });
        this.once(target.table, `error: ${err instanceof Error ? err.message : String(err)}`, () =>
          this.log.error({ err, table: target.table }, 'pruning failed; retrying next interval'),
        );
      }
    }
    return deleted;
  }

  private async prune(target: RetentionTarget): Promise<number> {
    const { table, retentionMs } = target;
    if (target.floorMs) {
      const floorMs = await target.floorMs();
      if (retentionMs <= floorMs) {
        this.skipped.set({ table }, 1);
        this.once(table, `floor ${floorMs}`, () =>
          this.log.error({ table, retentionMs, floorMs }, 'retention is not longer than the redelivery window of the topics; not pruning this table'),
        );
        return 0;
      }
      this.skipped.set({ table }, 0);
    }
    this.lastProblem.delete(table);
    const deleted = await deleteInBatches((limit) => target.deleteBatch(retentionMs, limit), this.opts.batchSize ?? PRUNE_BATCH);
    this.pruned.inc({ table }, deleted);
    if (deleted > 0) this.log.info({ table, deleted, retentionMs }, 'pruned rows past the retention');
    else this.log.debug({ table, retentionMs }, 'no rows past the retention');
    return deleted;
  }

  /** Logs a problem the first time it is seen, not again every interval while it lasts. */
  private once(table: string, problem: string, log: () => void): void {
    if (this.lastProblem.get(table) !== problem) log();
    this.lastProblem.set(table, problem);
  }
}
