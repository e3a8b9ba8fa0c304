// The transactional Kafka producer of one outbox, whose transactional id fences every earlier holder.
//
// Fencing: every relay of a database publishes with the same Kafka transactional id, and a relay that
// takes the lock initialises its producer before it reads a row. Kafka then aborts whatever transaction an
// earlier holder left open and refuses that holder's producer from then on (PRODUCER_FENCED): a relay
// frozen in the middle of a send (SIGSTOP, a paused VM), resumed after a standby took over, can neither
// commit what it had sent nor send more. Each send is one Kafka transaction, committed before the rows are
// marked sent; consumers read committed records only (kafkajs' default).
import { Partitioners, type Kafka, type Producer } from 'kafkajs';
import type { Logger } from '@qtshop/shared/platform';
import { protocolErrorType, type topicMessagesOf } from './batch';
import type { RelayMetrics } from './metrics';

/** The Kafka transactional id every relay of `database` publishes with (OUTBOX_TRANSACTIONAL_ID_PREFIX). */
export const relayTransactionalId = (prefix: string, database: string) => `${prefix}.${database}`;

/**
 * Kafka aborts a publisher's transaction left open this long (a relay frozen mid-send with no standby to
 * fence it): until then, read-committed consumers of its partitions wait. A send takes milliseconds.
 */
export const RELAY_TRANSACTION_TIMEOUT_MS = 30_000;

/** Kafka's answers to a producer another relay has fenced (it took the outbox lock since). */
const FENCED_ERRORS = new Set(['PRODUCER_FENCED', 'INVALID_PRODUCER_EPOCH', 'TRANSACTIONAL_ID_AUTHORIZATION_FAILED']);

/** Whether a Kafka protocol error type is one of the answers to a fenced producer. */
export const isFencedType = (type: string): boolean => FENCED_ERRORS.has(type);

export interface FencedProducerOptions {
  database: string;
  kafka: Kafka;
  /** Kafka transactional id shared by every relay of this database (relayTransactionalId): fencing. */
  transactionalId: string;
  log: Logger;
  metrics: RelayMetrics;
}

export class FencedProducer {
  private producer: Producer | undefined;

  constructor(private readonly opts: FencedProducerOptions) {}

  /** True while a producer is connected (and has fenced the earlier holders). */
  get connected(): boolean {
    return this.producer !== undefined;
  }

  async connect(): Promise<Producer> {
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

  async drop(): Promise<void> {
    const producer = this.producer;
    this.producer = undefined;
    await producer?.disconnect().catch(() => undefined);
  }

  /** One send, one Kafka transaction: its records become visible to consumers at the commit, or never. */
  async sendInTransaction(topicMessages: ReturnType<typeof topicMessagesOf>): Promise<void> {
    const producer = this.producer ?? (await this.connect());
    const tx = await producer.transaction();
    try {
      await tx.sendBatch({ topicMessages, acks: -1 });
      await tx.commit();
    } catch (err) {
      if (tx.isActive()) await tx.abort().catch(() => undefined);
      throw err;
    }
  }

  /**
   * Whether a failed send was fenced: another relay holds the lock now. Said once and counted here; the
   * caller rolls the poll back and starts over as a standby.
   */
  fenced(err: unknown): boolean {
    const type = protocolErrorType(err);
    if (type === undefined || !FENCED_ERRORS.has(type)) return false;
    this.opts.metrics.fenced.inc({ database: this.opts.database });
    this.opts.log.warn(
      { err: { message: (err as Error).message, type } },
      'fenced by Kafka: another relay took over this outbox; nothing of this batch was published',
    );
    return true;
  }
}
