// The polling relay of one outbox database (DESIGN.md "Polling mode"). Exactly one relay per database is
// active: it holds a session-level advisory lock on ONE dedicated connection and does every read and
// update on that connection, so if the connection dies the lock and the transaction in flight die with
// it (the rows stay unsent and the next holder publishes them again: at-least-once, consumers dedup by
// the `id` header). A relay without the lock is a standby and retries every interval.
import { Partitioners, type Kafka, type Producer, type TopicMessages } from 'kafkajs';
import pg from 'pg';
import { OUTBOX_TABLE, outboxRecord, type Infra, type Logger, type OutboxRow } from '@qtshop/shared';
import { Loop } from './loop';
import type { RelayMetrics } from './metrics';

/** Advisory lock key of "the relay of this outbox"; advisory locks are scoped to the database. */
export const RELAY_LOCK_KEY = '7301160401';
export const RELAY_APPLICATION_NAME = 'qtshop-relay';

// Plain `for update`, not `skip locked`: only the lock holder reads here, and skipping a row locked by
// someone else (an operator's UPDATE) would publish later rows first.
const SELECT_UNSENT = `select id, position, aggregatetype, aggregateid, type, payload, traceparent
  from ${OUTBOX_TABLE} where sent_at is null order by position limit $1 for update`;
const MARK_SENT = `update ${OUTBOX_TABLE} set sent_at = now() where id = any($1::uuid[])`;

type UnsentRow = Pick<OutboxRow, 'id' | 'position' | 'aggregatetype' | 'aggregateid' | 'type' | 'payload' | 'traceparent'>;

/** One entry per topic, records in row order (rows come in position order, so per-key order is kept). */
export function topicMessagesOf(rows: UnsentRow[]): TopicMessages[] {
  const byTopic = new Map<string, TopicMessages>();
  for (const row of rows) {
    const { topic, message } = outboxRecord(row);
    const entry = byTopic.get(topic) ?? { topic, messages: [] };
    entry.messages.push(message);
    byTopic.set(topic, entry);
  }
  return [...byTopic.values()];
}

/** A full batch means more rows are probably waiting: poll again at once instead of after the interval. */
export function shouldDrain(fetched: number, batchSize: number): boolean {
  return fetched >= batchSize;
}

export type RelayState = 'disconnected' | 'standby' | 'active' | 'stopped';

export interface PollingStats {
  database: string;
  state: RelayState;
  polls: number;
  rows: number;
  batches: number;
  errors: number;
  lastError: string | undefined;
}

export interface PollingRelayOptions {
  database: string;
  pg: Infra['pg'];
  kafka: Kafka;
  intervalMs: number;
  batchSize: number;
  log: Logger;
  metrics: RelayMetrics;
}

export class PollingRelay {
  private readonly loop: Loop;
  private readonly log: Logger;
  private client: pg.Client | undefined;
  private broken = false;
  private producer: Producer | undefined;
  private readonly counts: PollingStats;

  constructor(private readonly opts: PollingRelayOptions) {
    this.log = opts.log.child({ database: opts.database, worker: 'polling' });
    this.counts = { database: opts.database, state: 'disconnected', polls: 0, rows: 0, batches: 0, errors: 0, lastError: undefined };
    this.loop = new Loop(() => this.tick(), opts.intervalMs, (err) => this.failed(err));
  }

  stats(): PollingStats {
    return { ...this.counts };
  }

  start(): void {
    this.loop.start();
  }

  /** Lets the batch in flight finish, then releases the lock and disconnects. */
  async stop(): Promise<void> {
    await this.loop.stop();
    const client = this.client;
    if (client && this.counts.state === 'active' && !this.broken) {
      await client.query('select pg_advisory_unlock($1::bigint)', [RELAY_LOCK_KEY]).catch(() => undefined);
    }
    await this.disconnect();
    this.setState('stopped');
  }

  /** One step of the loop; true asks for the next poll at once. */
  private async tick(): Promise<boolean> {
    if (this.broken) await this.disconnect();
    const client = this.client ?? (await this.connect());
    if (this.counts.state !== 'active' && !(await this.acquire(client))) return false;
    return shouldDrain(await this.poll(client), this.opts.batchSize);
  }

  private async connect(): Promise<pg.Client> {
    const { host, port, user, password } = this.opts.pg;
    const client = new pg.Client({ host, port, user, password, database: this.opts.database, application_name: RELAY_APPLICATION_NAME, keepAlive: true });
    // A dead connection means the lock is gone too: mark it, and the next tick starts over.
    const lost = (err?: Error) => {
      if (this.client !== client || this.broken) return;
      this.broken = true;
      this.log.warn({ err }, 'outbox connection lost; the lock went with it');
    };
    client.on('error', lost);
    client.on('end', () => lost());
    try {
      await client.connect();
    } catch (err) {
      await client.end().catch(() => undefined);
      throw err;
    }
    this.client = client;
    this.broken = false;
    return client;
  }

  private async acquire(client: pg.Client): Promise<boolean> {
    const { rows } = await client.query<{ locked: boolean }>('select pg_try_advisory_lock($1::bigint) as locked', [RELAY_LOCK_KEY]);
    if (rows[0]?.locked) {
      this.log.info({ intervalMs: this.opts.intervalMs, batchSize: this.opts.batchSize }, 'outbox lock acquired; relaying');
      this.setState('active');
      return true;
    }
    if (this.counts.state !== 'standby') this.log.info({ intervalMs: this.opts.intervalMs }, 'another relay holds the outbox lock; standing by');
    else this.log.debug('still standing by');
    this.setState('standby');
    return false;
  }

  /** Publishes up to one batch of unsent rows in one transaction; returns how many rows it fetched. */
  private async poll(client: pg.Client): Promise<number> {
    const producer = this.producer ?? (await this.connectProducer());
    const { database } = this.opts;
    await client.query('begin');
    try {
      const { rows } = await client.query<UnsentRow>(SELECT_UNSENT, [this.opts.batchSize]);
      this.counts.polls++;
      this.opts.metrics.polls.inc({ database });
      if (rows.length > 0) {
        await this.publish(producer, rows);
        await client.query(MARK_SENT, [rows.map((r) => r.id)]);
      }
      await client.query('commit');
      return rows.length;
    } catch (err) {
      await client.query('rollback').catch(() => {
        this.broken = true;
      });
      throw err;
    }
  }

  private async publish(producer: Producer, rows: UnsentRow[]): Promise<void> {
    const { database } = this.opts;
    try {
      await producer.sendBatch({ topicMessages: topicMessagesOf(rows), acks: -1 });
    } catch (err) {
      // A fresh producer (new producer id, fresh sequences) for the retry: the failed batch may or may
      // not have been written, and the retry's batches will not line up with it.
      await this.dropProducer();
      throw err;
    }
    this.counts.rows += rows.length;
    this.counts.batches++;
    this.opts.metrics.rows.inc({ database }, rows.length);
    this.opts.metrics.batches.inc({ database });
    const first = rows[0]!;
    const last = rows[rows.length - 1]!;
    this.log.debug({ count: rows.length, first: { id: first.id, type: first.type, position: first.position }, last: { id: last.id, type: last.type, position: last.position } }, 'published batch');
    if (this.log.isLevelEnabled('trace')) for (const r of rows) this.log.trace({ eventId: r.id, eventType: r.type, aggregateId: r.aggregateid }, 'published event');
  }

  private async connectProducer(): Promise<Producer> {
    // Idempotent: broker-side dedup of the producer's own retries, acks from all replicas; kafkajs
    // serializes requests per broker for it. Retries are bounded so a Kafka outage fails the poll
    // (rolled back, retried next tick, lastError set) instead of holding the transaction open forever.
    // The default partitioner is Java's murmur2, so a key lands on the partition Debezium would pick.
    const producer = this.opts.kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      retry: { retries: 5 },
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    try {
      await producer.connect();
    } catch (err) {
      await producer.disconnect().catch(() => undefined);
      throw err;
    }
    this.producer = producer;
    return producer;
  }

  private async dropProducer(): Promise<void> {
    const producer = this.producer;
    this.producer = undefined;
    await producer?.disconnect().catch(() => undefined);
  }

  private async disconnect(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    this.broken = false;
    if (this.counts.state === 'active' || this.counts.state === 'standby') this.setState('disconnected');
    await this.dropProducer();
    await client?.end().catch(() => undefined);
  }

  private async failed(err: unknown): Promise<void> {
    const message = err instanceof Error ? err.message : String(err);
    const { database } = this.opts;
    // The same failure every tick (a database without an outbox table yet) is logged once at error level.
    if (message !== this.counts.lastError) this.log.error({ err }, 'outbox poll failed; retrying next tick');
    else this.log.debug({ err }, 'outbox poll failed again');
    this.counts.errors++;
    this.counts.lastError = message;
    this.opts.metrics.errors.inc({ database });
    this.opts.metrics.lastErrorTime.setToCurrentTime({ database });
    if (this.broken) await this.disconnect();
  }

  private setState(state: RelayState): void {
    this.counts.state = state;
    this.opts.metrics.active.set({ database: this.opts.database }, state === 'active' ? 1 : 0);
  }
}
