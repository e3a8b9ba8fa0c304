// The polling relay of one outbox database (docs/concepts.md "Relays: Debezium, or polling"), which is also the
// repairer of debezium mode (docs/concepts.md "Delivery guarantee"): with `repairAfterMs` > 0 it publishes only
// rows still unconfirmed after that long (publisher.ts, mode repair). Its loop holds the outbox (lease.ts:
// the lock, a standby's takeover), fences earlier holders (fenced-producer.ts), publishes one batch per
// poll (publisher.ts), and backs off after failures.
import type { Kafka } from 'kafkajs';
import { Loop, type Logger } from '@qtshop/shared/platform';
import type { Infra } from '@qtshop/shared/infra';
import { FencedProducer } from './fenced-producer';
import { OutboxLease, type RelayState } from './lease';
import type { RelayMetrics } from './metrics';
import { Publisher, publishModeOf } from './publisher';

/**
 * Poll again at once instead of after the interval when more rows are probably waiting: a full batch, rows
 * left out by the byte bound, or rows just quarantined (the ones behind them may be ready).
 */
export function shouldDrain(picked: number, batchSize: number, leftOver = 0): boolean {
  return picked >= batchSize || leftOver > 0;
}

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
  /** A standby ends the holder's session after it has been idle this long (frozen, hung); see takeOverFromIdleHolder (lease.ts). */
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
  private readonly lease: OutboxLease;
  private readonly producer: FencedProducer;
  private readonly publisher: Publisher;
  /** Failed polls, and the last one's message. */
  private readonly failures: { errors: number; lastError: string | undefined } = { errors: 0, lastError: undefined };
  /** Polls failed in a row (the backoff). */
  private failuresInARow = 0;

  constructor(private readonly opts: PollingRelayOptions) {
    const { database, intervalMs, batchSize, maxBatchBytes, metrics } = opts;
    const mode = publishModeOf(opts.repairAfterMs);
    this.log = opts.log.child({ database, worker: mode.name === 'repair' ? 'repair' : 'polling' });
    const log = this.log;
    this.lease = new OutboxLease({ database, pg: opts.pg, takeoverAfterMs: opts.takeoverAfterMs, intervalMs, batchSize, log, metrics });
    this.producer = new FencedProducer({ database, kafka: opts.kafka, transactionalId: opts.transactionalId, log, metrics });
    this.publisher = new Publisher({ database, mode, batchSize, maxBatchBytes, lease: this.lease, producer: this.producer, log, metrics });
    this.loop = new Loop(
      () => this.tick(),
      opts.intervalMs,
      (err) => this.failed(err),
    );
  }

  stats(): PollingStats {
    return { database: this.opts.database, state: this.lease.state, ...this.publisher.counts, ...this.failures };
  }

  /** True while this relay holds the database's outbox lock (the one that publishes and supervises). */
  get active(): boolean {
    return this.lease.holding;
  }

  start(): void {
    this.loop.start();
  }

  /** Lets the batch in flight finish, then releases the lock and disconnects. */
  async stop(): Promise<void> {
    await this.loop.stop();
    await this.lease.release();
    await this.disconnect();
    this.lease.stopped();
  }

  /** What keeps this relay from publishing, one sentence each (for /ready). */
  problems(): string[] {
    return this.publisher.problems();
  }

  /** One step of the loop; true asks for the next poll at once. */
  private async tick(): Promise<boolean> {
    if (this.lease.broken) await this.disconnect();
    const client = this.lease.session ?? (await this.lease.connect());
    if (this.lease.state !== 'active' && !(await this.lease.acquire(client))) return false;
    // Fence every earlier holder before reading a row (and again after any send failure dropped the producer).
    if (!this.producer.connected) await this.producer.connect();
    if (this.opts.ready && !(await this.opts.ready())) {
      this.log.debug('waiting for the confirmer to catch up before repairing');
      return false;
    }
    const { picked, leftOver } = await this.publisher.poll(client);
    this.failuresInARow = 0;
    return shouldDrain(picked, this.opts.batchSize, leftOver);
  }

  /** Leaves the session (and the lock with it); the producer is dropped before the connection ends. */
  private async disconnect(): Promise<void> {
    await this.lease.disconnect(() => this.producer.drop());
  }

  /** Logs and counts a failed poll; the next one comes after a backoff that doubles from the interval. */
  private async failed(err: unknown): Promise<number> {
    const message = err instanceof Error ? err.message : String(err);
    const { database } = this.opts;
    // The same failure every tick (a database without an outbox table yet) is logged once at error level.
    if (message !== this.failures.lastError) this.log.error({ err }, 'outbox poll failed; retrying with backoff');
    else this.log.debug({ err }, 'outbox poll failed again');
    this.failures.errors++;
    this.failures.lastError = message;
    this.opts.metrics.errors.inc({ database });
    this.opts.metrics.lastErrorTime.setToCurrentTime({ database });
    if (this.lease.broken) await this.disconnect();
    this.failuresInARow += 1;
    const max = Math.max(this.opts.intervalMs, this.opts.retryBackoffMaxMs ?? 15_000);
    return Math.min(max, this.opts.intervalMs * 2 ** Math.min(this.failuresInARow - 1, 20));
  }
}
