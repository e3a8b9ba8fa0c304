// What every consumer shares: its settings, an event as consumed, the inbox (at most once per event id; the
// PostgreSQL one here, MongoDB's in mongo-inbox.ts), decoding a record into a typed event, the dead-letter
// headers and the heartbeats that keep a waiting consumer in its group. The runner that puts them to work
// is consumer-runner.ts.
import type { TextMapGetter } from '@opentelemetry/api';
import type { IHeaders, KafkaMessage } from 'kafkajs';
import type { Knex } from 'knex';
import { env, type ConfigOf } from '../../platform/config';
import { inTransaction } from '../../infra/db';
import { EVENTS, isEventType, type EventPayload, type EventType } from '../../events/registry';
import { headerString } from '../../infra/kafka';
import { isUuid } from '../../platform/ids';
import type { Stale } from '../../events/versions';

/** Settings of every consuming service (spread into its config; consumerTuning reads them). */
export const consumerSettings = {
  CONSUMER_MAX_BATCH: {
    doc: 'Most consecutive events of one partition a consumer applies in one database transaction (one multi-row inbox insert, one commit); 1 applies each event in a transaction of its own. A failing batch is retried event by event, so a poison event is still dead-lettered alone',
    default: '100',
    schema: env.int(1),
  },
  CONSUMER_PARTITIONS_CONCURRENTLY: {
    doc: 'Partitions a consumer processes at once (each in its own transactions, per-key order kept within a partition)',
    default: '1',
    schema: env.int(1),
  },
  CONSUMER_RETRY_BUDGET_MS: {
    doc: "How long an event whose handler keeps failing (not a schema violation, not a transient database outage, which is waited out for as long as it lasts) is retried before it is dead-lettered, from its first failure. After 5 quick attempts its partition is paused and the event retried in the background (the consumer's other partitions go on), so a deploy whose code runs before its migration settles by itself. 0 dead-letters after the quick attempts",
    default: '300000',
    schema: env.int(0),
  },
  CONSUMER_RETRY_BACKOFF_MAX_MS: {
    doc: 'Longest wait between background attempts of a paused partition: a failing handler within CONSUMER_RETRY_BUDGET_MS, or a dead letter Kafka refuses (retried for as long as it is refused; the message is never dropped)',
    default: '10000',
    schema: env.int(1),
  },
  CONSUMER_STALL_MS: {
    doc: 'A consumer with partitions assigned that completed no fetch and no batch for this long (kafkajs crashed for good, or its restarts never get going) is restarted by its service; /ready says not consuming meanwhile',
    default: '60000',
    schema: env.int(1000),
  },
  CONSUMER_RESTART_BACKOFF_MS: {
    doc: 'First wait before a service restarts a consumer that stopped consuming; doubles with each restart that did not get it consuming for CONSUMER_STALL_MS, up to 30 s',
    default: '1000',
    schema: env.int(1),
  },
  CONSUMER_MAX_RESTARTS: {
    doc: 'Restarts in a row that did not get a consumer consuming again before the service exits with status 1, so that what supervises it (npm start, a restart policy, Kubernetes) starts it afresh',
    default: '5',
    schema: env.int(1),
  },
};

/** The runner options consumerSettings set. */
export const consumerTuning = (c: ConfigOf<typeof consumerSettings>) => ({
  maxBatch: c.CONSUMER_MAX_BATCH,
  partitionsConsumedConcurrently: c.CONSUMER_PARTITIONS_CONCURRENTLY,
  retryBudgetMs: c.CONSUMER_RETRY_BUDGET_MS,
  parkedBackoffMaxMs: c.CONSUMER_RETRY_BACKOFF_MAX_MS,
  stallMs: c.CONSUMER_STALL_MS,
  restartBackoffMs: c.CONSUMER_RESTART_BACKOFF_MS,
  maxRestarts: c.CONSUMER_MAX_RESTARTS,
});
export type ConsumerTuning = ReturnType<typeof consumerTuning>;

export const dlqTopicOf = (topic: string) => `${topic}.dlq`;
/** The consumer group in which `npm run dlq -- redrive` keeps its progress through `<topic>.dlq`. */
export const redriveGroupOf = (topic: string) => `qtshop-dlq-redrive.${topic}`;

/** Header names the runner adds to a dead-lettered message (the original headers are kept). */
export const DLQ_HEADERS = {
  reason: 'dlq.reason',
  error: 'dlq.error',
  topic: 'dlq.original.topic',
  partition: 'dlq.original.partition',
  offset: 'dlq.original.offset',
  group: 'dlq.consumer.group',
  attempts: 'dlq.attempts',
  failedAt: 'dlq.failed.at',
} as const;

export type DlqReason = 'missing_id' | 'unknown_event_type' | 'invalid_json' | 'schema_violation' | 'unprocessable' | 'handler_failed';

/**
 * Thrown by a handler for an event it can never apply (e.g. an outcome for an order that does not exist):
 * dead-lettered at once with reason `unprocessable`, without retries that could not help.
 */
export class Unprocessable extends Error {
  override name = 'Unprocessable';
}

export interface ConsumedEvent<T extends EventType = EventType> {
  id: string;
  type: T;
  key: string | null;
  payload: EventPayload<T>;
  topic: string;
  partition: number;
  offset: string;
}

/** A handler returns nothing when it applied the event, or stale() when it skipped it as older than its state. */
export type HandlerResult = void | Stale;

/** What the inbox did with an event: ran the handler (which applied it or found it stale), or found its id processed. */
export type InboxResult = 'applied' | 'duplicate' | Stale;

/** Runs `fn` at most once per event id; 'duplicate' when the id was already processed. */
export interface Inbox<Tx> {
  process(event: ConsumedEvent, fn: (tx: Tx) => Promise<HandlerResult>): Promise<InboxResult>;
  /**
   * Runs several events' handlers, in order, with one inbox write for all of them; results in the items'
   * order. When it throws, the runner takes the events one by one: the PostgreSQL inbox commits all of them
   * or none (one transaction), the MongoDB inbox records those applied before the failure. An inbox without
   * it processes every event on its own.
   */
  processBatch?(items: ReadonlyArray<{ event: ConsumedEvent; fn: (tx: Tx) => Promise<HandlerResult> }>): Promise<InboxResult[]>;
}

export type Handlers<Tx> = { [T in EventType]?: (event: ConsumedEvent<T>, tx: Tx) => Promise<HandlerResult> };

/** The inbox table of DESIGN.md (its migration is tooling/inbox-table.ts). */
export const INBOX_TABLE = 'processed_events';

/**
 * An inbox row: the event id (the dedup key) and, for audits, its type, aggregate (the Kafka key), the
 * version it carried and what the handler did (applied, or stale: see inboxAuditMigration).
 */
export function inboxRecord(event: ConsumedEvent, outcome: 'applied' | 'stale') {
  return { event_id: event.id, event_type: event.type, aggregate_id: event.key, version: event.payload.version, outcome };
}

/**
 * The PostgreSQL inbox: the handler and the processed_events insert share one transaction. A batch is one
 * transaction: one insert of every event id (those already there are duplicates), then each new event's
 * handler in order; an id twice in one batch runs once. Events found stale are marked so in one update.
 */
export function pgInbox(db: Knex): Inbox<Knex.Transaction> {
  return {
    processBatch: (items) =>
      inTransaction(db, async (trx) => {
        // The transaction's rows share its now(); each is stamped a microsecond later than the one before it,
        // so processed_at still orders the events as they were applied (the chaos suite's version order).
        const rows = await trx(INBOX_TABLE)
          .insert(items.map((i, n) => ({ ...inboxRecord(i.event, 'applied'), processed_at: trx.raw('now() + make_interval(secs => ?)', [n / 1e6]) })))
          .onConflict('event_id')
          .ignore()
          .returning<Array<{ event_id: string }>>('event_id');
        const claimed = new Set(rows.map((r) => r.event_id));
        const results: InboxResult[] = [];
        const stale: string[] = [];
        for (const { event, fn } of items) {
          if (!claimed.delete(event.id)) {
            results.push('duplicate');
            continue;
          }
          const result = await fn(trx);
          results.push(result === undefined ? 'applied' : result);
          if (result !== undefined) stale.push(event.id);
        }
        if (stale.length) await trx(INBOX_TABLE).whereIn('event_id', stale).update({ outcome: 'stale' });
        return results;
      }),
    process: (event, fn) =>
      inTransaction(db, async (trx) => {
        const inserted = await trx(INBOX_TABLE).insert(inboxRecord(event, 'applied')).onConflict('event_id').ignore().returning('event_id');
        if (inserted.length === 0) return 'duplicate' as const;
        const result = await fn(trx);
        if (result === undefined) return 'applied' as const;
        await trx(INBOX_TABLE).where({ event_id: event.id }).update({ outcome: 'stale' });
        return result;
      }),
  };
}

/** Why a message cannot be an event (decodeEvent): dead-lettered at once with this reason. */
export class DeadLetter extends Error {
  constructor(
    readonly reason: DlqReason,
    message: string,
  ) {
    super(message);
  }
}

/** Turns a Kafka message into a typed event, or throws DeadLetter saying why it cannot be one. */
export function decodeEvent(topic: string, partition: number, message: KafkaMessage): ConsumedEvent {
  const id = headerString(message.headers, 'id');
  if (!isUuid(id)) throw new DeadLetter('missing_id', id ? `id header is not a UUID: ${id}` : 'no id header');
  const type = headerString(message.headers, 'eventType');
  if (!isEventType(type)) throw new DeadLetter('unknown_event_type', `unknown eventType header: ${type ?? '(none)'}`);
  let json: unknown;
  try {
    json = JSON.parse(message.value?.toString('utf8') ?? '');
  } catch (err) {
    throw new DeadLetter('invalid_json', `value is not JSON: ${(err as Error).message}`);
  }
  const parsed = EVENTS[type].schema.safeParse(json);
  if (!parsed.success) {
    throw new DeadLetter('schema_violation', parsed.error.issues.map((i) => `${i.path.join('.') || 'value'}: ${i.message}`).join('; '));
  }
  return {
    id,
    type,
    key: message.key?.toString('utf8') ?? null,
    payload: parsed.data,
    topic,
    partition,
    offset: message.offset,
  };
}

/** Reads the trace context from a record's headers (Buffers, as kafkajs delivers them). */
export const kafkaHeaderGetter: TextMapGetter<IHeaders> = {
  keys: (headers) => Object.keys(headers),
  get: (headers, key) => headerString(headers, key),
};

/** The event's id and type as span attributes, read from the headers before the message is validated. */
export function eventAttributes(headers: IHeaders | undefined): Record<string, string> {
  const id = headerString(headers, 'id');
  const type = headerString(headers, 'eventType');
  return { ...(id ? { 'messaging.message.id': id } : {}), ...(type ? { 'qtshop.event.type': type } : {}) };
}

/** kafkajs errors meaning this member no longer owns its partitions as they were (a rebalance is under way, or it was removed). */
const LOST_MEMBERSHIP = new Set(['REBALANCE_IN_PROGRESS', 'NOT_COORDINATOR_FOR_GROUP', 'ILLEGAL_GENERATION', 'UNKNOWN_MEMBER_ID']);
export const lostMembership = (err: unknown): boolean => LOST_MEMBERSHIP.has((err as { type?: string })?.type ?? '');

/**
 * Runs `work` while heartbeating every `everyMs` (kafkajs sends one only when its heartbeat interval has
 * passed), so that a consumer waiting out an outage (a handler attempt blocked on an unreachable database,
 * or the backoff between attempts) keeps its group membership for as long as it waits. A heartbeat that
 * fails because of a rebalance is rethrown after `work` ends: the partition may have moved, and the
 * message must be left to its next owner rather than retried here. Other heartbeat failures (the broker
 * unreachable) are ignored here; the consumer's own fetch loop meets them after the wait.
 */
export async function withHeartbeats<T>(heartbeat: () => Promise<void>, everyMs: number, work: () => Promise<T>): Promise<{ value: T; lost?: unknown }> {
  let lost: unknown;
  const beat = () =>
    heartbeat().catch((err: unknown) => {
      if (lostMembership(err)) lost ??= err;
    });
  const timer = setInterval(() => void beat(), everyMs);
  try {
    const value = await work();
    return lost === undefined ? { value } : { value, lost };
  } finally {
    clearInterval(timer);
  }
}
