// The polling relay of one outbox database (DESIGN.md "Polling mode"), which is also the repairer of
// debezium mode ("Confirmation and repair"): with `repairAfterMs` > 0 it publishes only rows still
// unconfirmed after that long (a failed, paused or deleted connector, a lost slot, Connect down), with the
// same records Debezium would have produced. Exactly one relay per database is active: it holds a
// session-level advisory lock on ONE dedicated connection and does every read and update on that
// connection, so if the connection dies the lock and the transaction in flight die with it (the rows stay
// unsent and the next holder publishes them again: at-least-once, consumers dedup by the `id` header). A
// relay without the lock is a standby and retries every interval.
//
// Fencing: every relay of a database publishes with the same Kafka transactional id, and a relay that
// takes the lock initialises its producer before it reads a row. Kafka then aborts whatever transaction an
// earlier holder left open and refuses that holder's producer from then on (PRODUCER_FENCED): a relay
// frozen in the middle of a send (SIGSTOP, a paused VM), resumed after a standby took over, can neither
// commit what it had sent nor send more. Each send is one Kafka transaction, committed before the rows are
// marked sent; consumers read committed records only (kafkajs' default).
//
// A send never exceeds `maxBatchBytes` (planBatch). A row that can never be published (illegal topic, too
// large for the relay's own limit, unserializable) is quarantined: marked with its error in the same
// transaction, counted and logged, and never selected again until `npm run outbox -- retry <id>` (or
// `retry --all`); the rows behind it move on. Whatever Kafka refuses is the cluster's state, not the row's
// (batch.ts): the poll is rolled back, nothing is marked, and the relay tries again with a backoff that
// doubles up to `retryBackoffMaxMs`, saying why in problems() (/ready 503) and relay_kafka_refusing, until
// Kafka accepts and the rows go out by themselves, in order.
import { Partitioners, type Kafka, type Producer } from 'kafkajs';
import pg from 'pg';
import { Loop, type Logger } from '@qtshop/shared/platform';
import { pgConnection, type Infra } from '@qtshop/shared/infra';
import { createdAtHeaderSql } from '@qtshop/shared/events';
import { OUTBOX_TABLE } from '@qtshop/shared/outbox';
import { planBatch, protocolErrorType, topicMessagesOf, type PlannedRecord, type Quarantine, type UnsentRow } from './batch';
import { endIdleHolder, startHeartbeat } from './takeover';
import type { RelayMetrics } from './metrics';

/** Advisory lock key of "the relay of this outbox"; advisory locks are scoped to the database. */
export const RELAY_LOCK_KEY = '7301160401';
export const RELAY_APPLICATION_NAME = 'qtshop-relay';

/** The Kafka transactional id every relay of `database` publishes with (OUTBOX_TRANSACTIONAL_ID_PREFIX). */
export const relayTransactionalId = (prefix: string, database: string) => `${prefix}.${database}`;

/**
 * Kafka aborts a publisher's transaction left open this long (a relay frozen mid-send with no standby to
 * fence it): until then, read-committed consumers of its partitions wait. A send takes milliseconds.
 */
export const RELAY_TRANSACTION_TIMEOUT_MS = 30_000;

/** Kafka's answers to a producer another relay has fenced (it took the outbox lock since). */
const FENCED_ERRORS = new Set(['PRODUCER_FENCED', 'INVALID_PRODUCER_EPOCH', 'TRANSACTIONAL_ID_AUTHORIZATION_FAILED']);

// Plain `for update`, not `skip locked`: only the lock holder reads here, and skipping a row locked by
// someone else (an operator's UPDATE) would publish later rows first. The window sum returns only about
// `$2` bytes of the `$1` rows picked (the first row always), so a backlog of large rows is fetched a
// send's worth at a time; `picked` tells whether more were waiting.
const selectUnsent = (repair: boolean) => `with picked as (
    select id, position, aggregatetype, aggregateid, type, payload, traceparent, ${createdAtHeaderSql('created_at')} as created_at_header,
      octet_length(payload::text) as bytes
    from ${OUTBOX_TABLE}
    where sent_at is null and quarantined_at is null${repair ? ' and created_at < now() - make_interval(secs => $3::double precision)' : ''}
    order by position limit $1 for update)
  select id, position, aggregatetype, aggregateid, type, payload, traceparent, created_at_header, count(*) over () as picked
  from (select *, sum(bytes) over (order by position) - bytes as before from picked) p
  where before < $2 order by position`;
const MARK_SENT = `update ${OUTBOX_TABLE} set sent_at = now() where id = any($1::uuid[])`;
const QUARANTINE = `update ${OUTBOX_TABLE} o set quarantined_at = now(), quarantine_error = q.error
  from unnest($1::uuid[], $2::text[]) as q(id, error) where o.id = q.id`;

type FetchedRow = UnsentRow & { picked: string };

/**
 * Poll again at once instead of after the interval when more rows are probably waiting: a full batch, rows
 * left out by the byte bound, or rows just quarantined (the ones behind them may be ready).
 */
export function shouldDrain(picked: number, batchSize: number, leftOver = 0): boolean {
  return picked >= batchSize || leftOver > 0;
}

export type RelayState = 'disconnected' | 'standby' | 'active' | 'stopped';

export interface PollingStats {
  database: string;
  state: RelayState;
  polls: number;
  rows: number;
  batches: number;
  quarantined: number;
  errors: number;
  lastError: string | undefined;
}

export interface PollingRelayOptions {
  database: string;
  pg: Infra['pg'];
  kafka: Kafka;
  intervalMs: number;
  /** A standby ends the holder's session after it has been idle this long (frozen, hung); see takeOverFromIdleHolder. */
  takeoverAfterMs: number;
  /** Kafka transactional id shared by every relay of this database (relayTransactionalId): fencing. */
  transactionalId: string;
  batchSize: number;
  /** Upper bound of one send to Kafka, in record bytes (OUTBOX_BATCH_MAX_BYTES). */
  maxBatchBytes: number;
  /** 0: publish every unsent row (polling mode); > 0: only rows unconfirmed for this long (debezium mode's repair). */
  repairAfterMs: number;
  /** Longest wait between polls after failures in a row (the wait doubles from intervalMs): OUTBOX_RETRY_BACKOFF_MAX_MS. */
  retryBackoffMaxMs?: number;
  /** Repair waits until this says yes (the confirmer has read the topics up to where they ended at start). */
  ready?: () => Promise<boolean>;
  log: Logger;
  metrics: RelayMetrics;
}

export class PollingRelay {
  private readonly loop: Loop;
  private readonly log: Logger;
  private client: pg.Client | undefined;
  private broken = false;
  private stopHeartbeat: (() => void) | undefined;
  private producer: Producer | undefined;
  private readonly counts: PollingStats;
  /** Polls failed in a row (the backoff), and since when Kafka has refused the relay's records, and why. */
  private failuresInARow = 0;
  private refusal: { type: string; message: string; topics: string[]; since: number } | undefined;

  constructor(private readonly opts: PollingRelayOptions) {
    this.log = opts.log.child({ database: opts.database, worker: opts.repairAfterMs > 0 ? 'repair' : 'polling' });
    this.counts = { database: opts.database, state: 'disconnected', polls: 0, rows: 0, batches: 0, quarantined: 0, errors: 0, lastError: undefined };
    this.loop = new Loop(
      () => this.tick(),
      opts.intervalMs,
      (err) => this.failed(err),
    );
  }

  stats(): PollingStats {
    return { ...this.counts };
  }

  /** True while this relay holds the database's outbox lock (the one that publishes and supervises). */
  get active(): boolean {
    return this.counts.state === 'active' && !this.broken;
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
    // Fence every earlier holder before reading a row (and again after any send failure dropped the producer).
    if (!this.producer) await this.connectProducer();
    if (this.opts.ready && !(await this.opts.ready())) {
      this.log.debug('waiting for the confirmer to catch up before repairing');
      return false;
    }
    const { picked, leftOver } = await this.poll(client);
    return shouldDrain(picked, this.opts.batchSize, leftOver);
  }

  private async connect(): Promise<pg.Client> {
    const client = new pg.Client(pgConnection(this.opts.pg, this.opts.database, RELAY_APPLICATION_NAME));
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
    this.stopHeartbeat = startHeartbeat(client, this.opts.takeoverAfterMs, () => this.client === client && this.counts.state === 'active' && !this.broken);
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
    await this.takeOverFromIdleHolder(client);
    return false;
  }

  /** A standby ends the holder's session when it has been idle past the bound (a frozen relay): see takeover.ts. */
  private async takeOverFromIdleHolder(client: pg.Client): Promise<void> {
    const ended = await endIdleHolder(client, RELAY_LOCK_KEY, this.opts.takeoverAfterMs, RELAY_APPLICATION_NAME);
    if (!ended) return;
    this.log.warn({ holderPid: ended.pid, idleMs: ended.idleMs }, "ended the outbox lock holder's session, idle too long (frozen or hung); taking over");
    this.opts.metrics.takeovers.inc({ database: this.opts.database });
  }

  /** Publishes up to one batch of unsent rows in one transaction; says how many it picked and left for now. */
  private async poll(client: pg.Client): Promise<{ picked: number; leftOver: number }> {
    const { database, batchSize, maxBatchBytes, repairAfterMs } = this.opts;
    await client.query('begin');
    let result = { picked: 0, leftOver: 0 };
    try {
      const params = repairAfterMs > 0 ? [batchSize, maxBatchBytes, repairAfterMs / 1000] : [batchSize, maxBatchBytes];
      const { rows } = await client.query<FetchedRow>(selectUnsent(repairAfterMs > 0), params);
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
        this.broken = true;
      });
      throw err;
    }
    this.healthy();
    return result;
  }

  /** Sends the records in one Kafka transaction; a failure drops the producer and is thrown (an outage). */
  private async publish(records: PlannedRecord[]): Promise<void> {
    if (records.length === 0) return;
    try {
      await this.sendInTransaction(topicMessagesOf(records));
    } catch (err) {
      // A fresh producer (its epoch bumped, fresh sequences) for whatever comes next: the failed transaction
      // is aborted, by us or by the fresh producer's initialisation.
      await this.dropProducer();
      const type = protocolErrorType(err);
      if (type && !FENCED_ERRORS.has(type)) this.refused(type, err, [...new Set(records.map((r) => r.topic))]);
      throw this.fencedOr(err);
    }
  }

  /** Kafka refused the send: remembered for problems() and the metrics until a poll succeeds again. */
  private refused(type: string, err: unknown, topics: string[]): void {
    const { database } = this.opts;
    const message = (err as Error).message;
    if (this.refusal?.type !== type) {
      if (this.refusal) this.opts.metrics.refusing.set({ database, reason: this.refusal.type }, 0);
      this.log.error(
        { err: { message, type }, topics },
        'Kafka refuses the outbox records (the cluster, not the rows); retrying with backoff, nothing is quarantined',
      );
      this.refusal = { type, message, topics, since: Date.now() };
    }
    this.opts.metrics.refusals.inc({ database, reason: type });
    this.opts.metrics.refusing.set({ database, reason: type }, 1);
  }

  private healthy(): void {
    this.failuresInARow = 0;
    if (!this.refusal) return;
    this.opts.metrics.refusing.set({ database: this.opts.database, reason: this.refusal.type }, 0);
    this.log.info({ refusedForMs: Date.now() - this.refusal.since, reason: this.refusal.type }, 'Kafka accepts the outbox records again');
    this.refusal = undefined;
  }

  /** What keeps this relay from publishing, one sentence each (for /ready). */
  problems(): string[] {
    if (!this.refusal) return [];
    const { type, message, topics, since } = this.refusal;
    return [
      `Kafka refuses the relay's records on ${topics.join(', ')} for ${Math.round((Date.now() - since) / 1000)} s (${type}: ${message}); retrying with backoff, they go out by themselves once Kafka accepts`,
    ];
  }

  /** One send, one Kafka transaction: its records become visible to consumers at the commit, or never. */
  private async sendInTransaction(topicMessages: ReturnType<typeof topicMessagesOf>): Promise<void> {
    const producer = this.producer ?? (await this.connectProducer());
    const tx = await producer.transaction();
    try {
      await tx.sendBatch({ topicMessages, acks: -1 });
      await tx.commit();
    } catch (err) {
      if (tx.isActive()) await tx.abort().catch(() => undefined);
      throw err;
    }
  }

  /** A fenced producer means another relay holds the lock now: said once, counted, and the poll rolled back. */
  private fencedOr(err: unknown): unknown {
    const type = protocolErrorType(err);
    if (type === undefined || !FENCED_ERRORS.has(type)) return err;
    this.opts.metrics.fenced.inc({ database: this.opts.database });
    this.log.warn(
      { err: { message: (err as Error).message, type } },
      'fenced by Kafka: another relay took over this outbox; nothing of this batch was published',
    );
    this.broken = true; // the lock is presumably gone with our session: start over as a standby
    return err;
  }

  private published(records: PlannedRecord[]): void {
    if (records.length === 0) return;
    const { database } = this.opts;
    this.counts.rows += records.length;
    this.counts.batches++;
    this.opts.metrics.rows.inc({ database }, records.length);
    this.opts.metrics.batches.inc({ database });
    const first = records[0]!.row;
    const last = records[records.length - 1]!.row;
    if (this.opts.repairAfterMs > 0) {
      this.opts.metrics.repaired.inc({ database }, records.length);
      this.log.warn(
        { count: records.length, repairAfterMs: this.opts.repairAfterMs, first: { id: first.id, type: first.type } },
        'published rows Debezium had not delivered (repair)',
      );
    }
    this.log.debug(
      {
        count: records.length,
        first: { id: first.id, type: first.type, position: first.position },
        last: { id: last.id, type: last.type, position: last.position },
      },
      'published batch',
    );
    if (this.log.isLevelEnabled('trace'))
      for (const { row: r } of records) this.log.trace({ eventId: r.id, eventType: r.type, aggregateId: r.aggregateid }, 'published event');
  }

  private quarantined(rows: Quarantine[]): void {
    for (const { row, error } of rows) {
      this.log.error(
        { eventId: row.id, eventType: row.type, aggregateType: row.aggregatetype, aggregateId: row.aggregateid, position: row.position, error },
        'outbox row quarantined; the rows behind it go on (npm run outbox -- retry <id> after a fix)',
      );
    }
    this.counts.quarantined += rows.length;
    if (rows.length > 0) this.opts.metrics.quarantined.inc({ database: this.opts.database }, rows.length);
  }

  private async connectProducer(): Promise<Producer> {
    // Idempotent: broker-side dedup of the producer's own retries, acks from all replicas; kafkajs
    // serializes requests per broker for it. Retries are bounded so a Kafka outage fails the poll
    // (rolled back, retried next tick, lastError set) instead of holding the transaction open forever.
    // The default partitioner is Java's murmur2, so a key lands on the partition Debezium would pick.
    const producer = this.opts.kafka.producer({
      transactionalId: this.opts.transactionalId,
      transactionTimeout: RELAY_TRANSACTION_TIMEOUT_MS,
      idempotent: true,
      maxInFlightRequests: 1,
      retry: { retries: 5 },
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    try {
      await producer.connect();
      // Initialises the transactional producer id: Kafka bumps its epoch, which fences the producer of any
      // earlier holder and aborts the transaction it left open.
      await (await producer.transaction()).abort();
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
    this.stopHeartbeat?.();
    this.stopHeartbeat = undefined;
    if (this.counts.state === 'active' || this.counts.state === 'standby') this.setState('disconnected');
    await this.dropProducer();
    await client?.end().catch(() => undefined);
  }

  /** Logs and counts a failed poll; the next one comes after a backoff that doubles from the interval. */
  private async failed(err: unknown): Promise<number> {
    const message = err instanceof Error ? err.message : String(err);
    const { database } = this.opts;
    // The same failure every tick (a database without an outbox table yet) is logged once at error level.
    if (message !== this.counts.lastError) this.log.error({ err }, 'outbox poll failed; retrying with backoff');
    else this.log.debug({ err }, 'outbox poll failed again');
    this.counts.errors++;
    this.counts.lastError = message;
    this.opts.metrics.errors.inc({ database });
    this.opts.metrics.lastErrorTime.setToCurrentTime({ database });
    if (this.broken) await this.disconnect();
    this.failuresInARow += 1;
    const max = Math.max(this.opts.intervalMs, this.opts.retryBackoffMaxMs ?? 15_000);
    return Math.min(max, this.opts.intervalMs * 2 ** Math.min(this.failuresInARow - 1, 20));
  }

  private setState(state: RelayState): void {
    this.counts.state = state;
    this.opts.metrics.active.set({ database: this.opts.database }, state === 'active' ? 1 : 0);
  }
}
