// One poll of the relay, in one transaction on the lock connection: the rows due in its mode (publish-all
// or repair) are selected, planned into one send (batch.ts), quarantined or published in one Kafka
// transaction and marked sent; with the counts, metrics and log lines of each, and Kafka's refusals.
//
// A send never exceeds `maxBatchBytes` (planBatch). A row that can never be published (illegal topic, too
// large for the relay's own limit, unserializable) is quarantined: marked with its error in the same
// transaction, counted and logged, and never selected again until `npm run outbox -- retry <id>` (or
// `retry --all`); the rows behind it move on. Whatever Kafka refuses is the cluster's state, not the row's
// (batch.ts): the poll is rolled back, nothing is marked, and the relay tries again with a backoff that
// doubles up to `retryBackoffMaxMs`, saying why in problems() (/ready 503) and relay_kafka_refusing, until
// Kafka accepts and the rows go out by themselves, in order.
import type pg from 'pg';
import type { Logger } from '@qtshop/shared/platform';
import { planBatch, protocolErrorType, topicMessagesOf, type PlannedRecord, type Quarantine } from './batch';
import { isFencedType, type FencedProducer } from './fenced-producer';
import type { OutboxLease } from './lease';
import type { RelayMetrics } from './metrics';
import { MARK_SENT, QUARANTINE, SELECT_UNSENT, SELECT_UNSENT_OLDER, type FetchedRow } from './outbox-sql';

/**
 * Which unsent rows a poll publishes. publish-all (polling mode): every one. repair (debezium mode, where
 * the confirmer marks the rows it sees on Kafka): only rows still unconfirmed `afterMs` after their commit
 * (a failed, paused or deleted connector, a lost slot, Connect down), with the same records Debezium would
 * have produced.
 */
export type PublishMode = { name: 'publish-all' } | { name: 'repair'; afterMs: number };

/** `repairAfterMs` 0 publishes every unsent row; more repairs. */
export const publishModeOf = (repairAfterMs: number): PublishMode => (repairAfterMs > 0 ? { name: 'repair', afterMs: repairAfterMs } : { name: 'publish-all' });

/** The select of the rows due in `mode`, with its parameters. */
function selectDue(mode: PublishMode, batchSize: number, maxBatchBytes: number): [string, unknown[]] {
  return mode.name === 'repair' ? [SELECT_UNSENT_OLDER, [batchSize, maxBatchBytes, mode.afterMs / 1000]] : [SELECT_UNSENT, [batchSize, maxBatchBytes]];
}

export interface PublisherOptions {
  database: string;
  mode: PublishMode;
  batchSize: number;
  /** Upper bound of one send to Kafka, in record bytes (OUTBOX_BATCH_MAX_BYTES). */
  maxBatchBytes: number;
  /** Marked broken when a rollback fails or the producer is fenced: the relay starts over. */
  lease: OutboxLease;
  producer: FencedProducer;
  log: Logger;
  metrics: RelayMetrics;
}

export class Publisher {
  /** Polls issued, rows published, non-empty sends, rows quarantined. */
  readonly counts = { polls: 0, rows: 0, batches: 0, quarantined: 0 };
  /** Since when Kafka has refused the relay's records, and why. */
  private refusal: { type: string; message: string; topics: string[]; since: number } | undefined;

  constructor(private readonly opts: PublisherOptions) {}

  /** Publishes up to one batch of the due rows in one transaction; says how many it picked and left for now. */
  async poll(client: pg.Client): Promise<{ picked: number; leftOver: number }> {
    const { database, batchSize, maxBatchBytes, mode } = this.opts;
    await client.query('begin');
    let result = { picked: 0, leftOver: 0 };
    try {
      const [select, params] = selectDue(mode, batchSize, maxBatchBytes);
      const { rows } = await client.query<FetchedRow>(select, params);
      this.counts.polls++;
      this.opts.metrics.polls.inc({ database });
      if (rows.length > 0) {
        const picked = Number(rows[0]!.picked);
        const plan = planBatch(rows, maxBatchBytes);
        // In this transaction: when the send below fails, the quarantine is rolled back too and decided again next poll.
        if (plan.quarantine.length > 0) await client.query(QUARANTINE, [plan.quarantine.map((q) => q.row.id), plan.quarantine.map((q) => q.error)]);
        await this.publish(plan.send);
        if (plan.send.length > 0) await client.query(MARK_SENT, [plan.send.map((r) => r.row.id)]);
        this.published(plan.send);
        this.quarantined(plan.quarantine);
        result = { picked, leftOver: picked - rows.length + plan.deferred + plan.quarantine.length };
      }
      await client.query('commit');
    } catch (err) {
      await client.query('rollback').catch(() => {
        this.opts.lease.markBroken();
      });
      throw err;
    }
    this.accepted();
    return result;
  }

  /** Sends the records in one Kafka transaction; a failure drops the producer and is thrown (an outage). */
  private async publish(records: PlannedRecord[]): Promise<void> {
    if (records.length === 0) return;
    const { producer } = this.opts;
    try {
      await producer.sendInTransaction(topicMessagesOf(records));
    } catch (err) {
      // A fresh producer (its epoch bumped, fresh sequences) for whatever comes next: the failed transaction
      // is aborted, by us or by the fresh producer's initialisation.
      await producer.drop();
      const type = protocolErrorType(err);
      if (type && !isFencedType(type)) this.refused(type, err, [...new Set(records.map((r) => r.topic))]);
      if (producer.fenced(err)) this.opts.lease.markBroken(); // the lock is presumably gone with our session: start over as a standby
      throw err;
    }
  }

  /** Kafka refused the send: remembered for problems() and the metrics until a poll succeeds again. */
  private refused(type: string, err: unknown, topics: string[]): void {
    const { database } = this.opts;
    const message = (err as Error).message;
    if (this.refusal?.type !== type) {
      if (this.refusal) this.opts.metrics.refusing.set({ database, reason: this.refusal.type }, 0);
      this.opts.log.error(
        { err: { message, type }, topics },
        'Kafka refuses the outbox records (the cluster, not the rows); retrying with backoff, nothing is quarantined',
      );
      this.refusal = { type, message, topics, since: Date.now() };
    }
    this.opts.metrics.refusals.inc({ database, reason: type });
    this.opts.metrics.refusing.set({ database, reason: type }, 1);
  }

  /** A poll went through: a refusal remembered until now is over. */
  private accepted(): void {
    if (!this.refusal) return;
    this.opts.metrics.refusing.set({ database: this.opts.database, reason: this.refusal.type }, 0);
    this.opts.log.info({ refusedForMs: Date.now() - this.refusal.since, reason: this.refusal.type }, 'Kafka accepts the outbox records again');
    this.refusal = undefined;
  }

  /** What keeps the relay from publishing, one sentence each (for /ready). */
  problems(): string[] {
    if (!this.refusal) return [];
    const { type, message, topics, since } = this.refusal;
    return [
      `Kafka refuses the relay's records on ${topics.join(', ')} for ${Math.round((Date.now() - since) / 1000)} s (${type}: ${message}); retrying with backoff, they go out by themselves once Kafka accepts`,
    ];
  }

  private published(records: PlannedRecord[]): void {
    if (records.length === 0) return;
    const { database, mode, log } = this.opts;
    this.counts.rows += records.length;
    this.counts.batches++;
    this.opts.metrics.rows.inc({ database }, records.length);
    this.opts.metrics.batches.inc({ database });
    const first = records[0]!.row;
    const last = records[records.length - 1]!.row;
    if (mode.name === 'repair') {
      this.opts.metrics.repaired.inc({ database }, records.length);
      log.warn(
        { count: records.length, repairAfterMs: mode.afterMs, first: { id: first.id, type: first.type } },
        'published rows Debezium had not delivered (repair)',
      );
    }
    log.debug(
      {
        count: records.length,
        first: { id: first.id, type: first.type, position: first.position },
        last: { id: last.id, type: last.type, position: last.position },
      },
      'published batch',
    );
    if (log.isLevelEnabled('trace'))
      for (const { row: r } of records) log.trace({ eventId: r.id, eventType: r.type, aggregateId: r.aggregateid }, 'published event');
  }

  private quarantined(rows: Quarantine[]): void {
    for (const { row, error } of rows) {
      this.opts.log.error(
        { eventId: row.id, eventType: row.type, aggregateType: row.aggregatetype, aggregateId: row.aggregateid, position: row.position, error },
        'outbox row quarantined; the rows behind it go on (npm run outbox -- retry <id> after a fix)',
      );
    }
    this.counts.quarantined += rows.length;
    if (rows.length > 0) this.opts.metrics.quarantined.inc({ database: this.opts.database }, rows.length);
  }
}
