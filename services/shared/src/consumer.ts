// The consumer runner every consuming service uses (DESIGN.md "Consumers", STYLE.md "Consumers").
//
// For each message: validate (id header, known eventType, JSON value, zod schema of the type) — anything
// invalid goes to <topic>.dlq at once; then run the handler inside the service's inbox (PostgreSQL: one
// transaction with the processed_events insert; MongoDB: see mongo-inbox.ts), so a redelivered event
// changes nothing. The offset is resolved only after that commits; kafkajs commits resolved offsets after
// the batch. Transient failures (database unreachable, failing over, read-only, serialization conflicts)
// are retried with backoff for as long as they last, without skipping the message, and the consumer keeps
// heartbeating meanwhile, so it keeps its partitions; any other handler failure is retried up to
// maxAttempts and then dead-lettered, so the partition always moves on.
//
// Batches: consecutive valid events of one fetched partition batch (up to CONSUMER_MAX_BATCH) go through the
// inbox together (PostgreSQL: one transaction, one multi-row inbox insert, the handlers in offset order, one
// commit), so a busy consumer pays one commit per batch instead of one per event. If the batch fails for
// any reason its events are taken one by one through the path above (the inbox skips those it recorded),
// so a poison event is still dead-lettered alone and the others are applied once. An invalid message ends the batch
// before it (it is dead-lettered in its place in the order). Offsets are resolved after each commit.
//
// Outcomes, counted in consumer_events_total by type: applied; duplicate (the inbox had the id); stale (the
// handler returned stale(): the state it would change is at least as new as the event, see versions.ts);
// skipped (no handler here); dead_lettered. A stale event commits with its inbox record, like an applied
// one: the decision is final (held versions never go down), so a redelivery is a cheap duplicate.
//
// Decisions written down: an eventType the registry does not know is dead-lettered (reason
// unknown_event_type); a known type this service has no handler for is skipped and its offset committed
// (a topic carries several types, each service handles the ones it cares about), read from its headers
// alone: its value is neither parsed nor validated here.
//
// Tracing: each message is a consumer span `process <topic>` whose parent is the trace context of the
// record's traceparent header (the outbox write that produced it, see outbox.ts), with the outcome as an
// attribute; each handler attempt is a span `handle <EventType>` inside it, so the events the handler
// writes to its own outbox continue the same trace.
import { context, SpanKind, SpanStatusCode, trace, type TextMapGetter, type Tracer } from '@opentelemetry/api';
import { Counter, Histogram, type Registry } from 'prom-client';
import type { Consumer, IHeaders, Kafka, KafkaMessage, Producer } from 'kafkajs';
import type { Knex } from 'knex';
import { env } from './config';
import { inTransaction } from './db';
import { EVENTS, isEventType, type EventPayload, type EventType } from './events';
import { ensureTopics, headerString } from './kafka';
import type { Logger } from './logging';
import { activeTracer, extractContext, failed, inSpan, withTracer } from './tracing';
import { isTransient } from './transient';
import { isStale, type Stale } from './versions';

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
};

/** The runner options consumerSettings set. */
export const consumerTuning = (c: { CONSUMER_MAX_BATCH: number; CONSUMER_PARTITIONS_CONCURRENTLY: number }) => ({
  maxBatch: c.CONSUMER_MAX_BATCH,
  partitionsConsumedConcurrently: c.CONSUMER_PARTITIONS_CONCURRENTLY,
});

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

class DeadLetter extends Error {
  constructor(
    readonly reason: DlqReason,
    message: string,
  ) {
    super(message);
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Turns a Kafka message into a typed event, or throws DeadLetter saying why it cannot be one. */
export function decodeEvent(topic: string, partition: number, message: KafkaMessage): ConsumedEvent {
  const id = headerString(message.headers, 'id');
  if (!id || !UUID.test(id)) throw new DeadLetter('missing_id', id ? `id header is not a UUID: ${id}` : 'no id header');
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
function eventAttributes(headers: IHeaders | undefined): Record<string, string> {
  const id = headerString(headers, 'id');
  const type = headerString(headers, 'eventType');
  return { ...(id ? { 'messaging.message.id': id } : {}), ...(type ? { 'qtshop.event.type': type } : {}) };
}

/** What the runner did with a message (consumer_events_total's outcome label). */
type Outcome = 'applied' | 'duplicate' | 'stale' | 'skipped' | 'dead_lettered';

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

export interface ConsumerRunnerOptions<Tx> {
  kafka: Kafka;
  /** One consumer group per service. */
  groupId: string;
  topics: string[];
  handlers: Handlers<Tx>;
  inbox: Inbox<Tx>;
  log: Logger;
  registry?: Registry;
  /** Attempts for a failing handler before the message is dead-lettered (transient failures do not count). */
  maxAttempts?: number;
  backoff?: { initialMs: number; maxMs: number };
  /** Called after the inbox committed an applied event and before its offset is resolved (metrics, tests). */
  onApplied?: (event: ConsumedEvent) => void | Promise<void>;
  /** How long the group waits for a silent member before reassigning its partitions (kafkajs default 30 s). */
  sessionTimeoutMs?: number;
  /** The service's tracer (tracing.ts startTracing); the process's when absent. */
  tracer?: Tracer;
  /** Most events of one partition applied in one inbox transaction (1: one transaction per event). */
  maxBatch?: number;
  /** Partitions this consumer processes at once (kafkajs partitionsConsumedConcurrently). */
  partitionsConsumedConcurrently?: number;
}

export interface ConsumerRunner {
  start(): Promise<void>;
  stop(): Promise<void>;
  readonly consumer: Consumer;
}

export function createConsumerRunner<Tx>(opts: ConsumerRunnerOptions<Tx>): ConsumerRunner {
  const maxAttempts = opts.maxAttempts ?? 5;
  const backoff = opts.backoff ?? { initialMs: 100, maxMs: 5000 };
  const sessionTimeout = opts.sessionTimeoutMs ?? 30_000;
  const heartbeatInterval = Math.min(3000, Math.floor(sessionTimeout / 3));
  const consumer = opts.kafka.consumer({
    groupId: opts.groupId,
    // A fetch returns as soon as a record arrives; the wait only bounds an idle fetch (an idle consumer's cost).
    maxWaitTimeInMs: 500,
    sessionTimeout,
    heartbeatInterval,
    retry: { retries: 10 },
  });
  const producer: Producer = opts.kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  const registers = opts.registry ? [opts.registry] : [];
  const outcomes = new Counter({
    name: 'consumer_events_total',
    help: 'Consumed events by type and outcome (applied, duplicate, stale, skipped, dead_lettered)',
    labelNames: ['type', 'outcome'],
    registers,
  });
  const retries = new Counter({ name: 'consumer_retries_total', help: 'Handler retries by type and kind', labelNames: ['type', 'kind'], registers });
  const latency = new Histogram({
    name: 'consumer_event_latency_seconds',
    help: "Applied events: from the outbox row's created_at (createdAt header, both relays) to the handler's commit, by consumer group and type",
    labelNames: ['group', 'type'],
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
    registers,
  });
  const batchSizes = new Histogram({
    name: 'consumer_batch_events',
    help: 'Events applied together in one inbox transaction (batches of two or more)',
    buckets: [2, 5, 10, 20, 50, 100, 200, 500],
    registers,
  });
  const batchFallbacks = new Counter({
    name: 'consumer_batch_fallbacks_total',
    help: 'Batches whose transaction failed and whose events were then taken one by one',
    registers,
  });
  const maxBatch = opts.maxBatch ?? 100;
  const partitionsConsumedConcurrently = opts.partitionsConsumedConcurrently ?? 1;
  const tracer = opts.tracer ?? activeTracer();
  let stopping = false;

  async function deadLetter(topic: string, partition: number, message: KafkaMessage, reason: DlqReason, error: string, attempts: number) {
    const headers: IHeaders = { ...(message.headers ?? {}) };
    Object.assign(headers, {
      [DLQ_HEADERS.reason]: reason,
      [DLQ_HEADERS.error]: error.slice(0, 2000),
      [DLQ_HEADERS.topic]: topic,
      [DLQ_HEADERS.partition]: String(partition),
      [DLQ_HEADERS.offset]: message.offset,
      [DLQ_HEADERS.group]: opts.groupId,
      [DLQ_HEADERS.attempts]: String(attempts),
      [DLQ_HEADERS.failedAt]: new Date().toISOString(),
    });
    await producer.send({ topic: dlqTopicOf(topic), acks: -1, messages: [{ key: message.key, value: message.value, headers }] });
  }

  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  /** A consumer span `process <topic>` continuing the trace of the record's traceparent header. */
  function startProcessSpan(topic: string, partition: number, message: KafkaMessage) {
    const parent = extractContext(message.headers ?? {}, kafkaHeaderGetter);
    const span = tracer.startSpan(
      `process ${topic}`,
      {
        kind: SpanKind.CONSUMER,
        attributes: {
          'messaging.system': 'kafka',
          'messaging.operation.type': 'process',
          'messaging.operation.name': 'process',
          'messaging.destination.name': topic,
          'messaging.destination.partition.id': String(partition),
          'messaging.consumer.group.name': opts.groupId,
          'messaging.kafka.offset': Number(message.offset),
          ...(message.key ? { 'messaging.kafka.message.key': message.key.toString('utf8') } : {}),
          ...eventAttributes(message.headers),
        },
      },
      parent,
    );
    return { span, ctx: withTracer(trace.setSpan(parent, span), tracer) };
  }

  const endSpan = (span: ReturnType<typeof startProcessSpan>['span'], outcome: Outcome) => {
    span.setAttribute('qtshop.consumer.outcome', outcome);
    if (outcome === 'dead_lettered') span.setStatus({ code: SpanStatusCode.ERROR, message: 'dead-lettered' });
    span.end();
  };

  /** Handles one message on its own, in its consumer span. */
  async function traced(topic: string, partition: number, message: KafkaMessage, heartbeat: () => Promise<void>): Promise<void> {
    const { span, ctx } = startProcessSpan(topic, partition, message);
    try {
      endSpan(span, await context.with(ctx, () => handle(topic, partition, message, heartbeat)));
    } catch (err) {
      failed(span, err);
      span.end();
      throw err;
    }
  }

  /** The message as an event, or undefined once it has been dead-lettered as invalid. */
  async function decodeOrDeadLetter(topic: string, partition: number, message: KafkaMessage): Promise<ConsumedEvent | undefined> {
    try {
      return decodeEvent(topic, partition, message);
    } catch (err) {
      if (!(err instanceof DeadLetter)) throw err;
      opts.log.warn({ topic, partition, offset: message.offset, reason: err.reason, error: err.message }, 'dead-lettering invalid message');
      await deadLetter(topic, partition, message, err.reason, err.message, 0);
      outcomes.inc({ type: headerString(message.headers, 'eventType') ?? 'none', outcome: 'dead_lettered' });
      return undefined;
    }
  }

  const handlerOf = (event: ConsumedEvent) => opts.handlers[event.type] as ((e: ConsumedEvent, tx: Tx) => Promise<HandlerResult>) | undefined;
  const eventLog = (event: ConsumedEvent) =>
    opts.log.child({ eventId: event.id, eventType: event.type, topic: event.topic, partition: event.partition, offset: event.offset });

  /** Counts and logs what the inbox did with an event; for an applied one, its latency and onApplied. */
  async function record(event: ConsumedEvent, message: KafkaMessage, r: InboxResult): Promise<Outcome> {
    const log = eventLog(event);
    if (isStale(r)) {
      outcomes.inc({ type: event.type, outcome: 'stale' });
      log.info({ result: 'stale', heldVersion: r.held, eventVersion: r.incoming }, 'stale event skipped: the state it would change is at least as new');
      return 'stale';
    }
    outcomes.inc({ type: event.type, outcome: r });
    log.info({ result: r }, r === 'applied' ? 'event applied' : 'duplicate event ignored');
    if (r === 'applied') {
      const createdAt = Date.parse(headerString(message.headers, 'createdAt') ?? '');
      if (!Number.isNaN(createdAt)) latency.observe({ group: opts.groupId, type: event.type }, Math.max(0, Date.now() - createdAt) / 1000);
      await opts.onApplied?.(event);
    }
    return r;
  }

  /**
   * A well-formed event of a type this service has no handler for is skipped from its headers, without
   * parsing or validating its value (a topic carries several types; the others are not this service's).
   */
  function skippedUnread(message: KafkaMessage): boolean {
    const type = headerString(message.headers, 'eventType');
    if (!isEventType(type) || opts.handlers[type] || !UUID.test(headerString(message.headers, 'id') ?? '')) return false;
    outcomes.inc({ type, outcome: 'skipped' });
    return true;
  }

  async function handle(topic: string, partition: number, message: KafkaMessage, heartbeat: () => Promise<void>): Promise<Outcome> {
    if (skippedUnread(message)) return 'skipped';
    const event = await decodeOrDeadLetter(topic, partition, message);
    if (!event) return 'dead_lettered';
    const log = eventLog(event);
    const handler = handlerOf(event)!; // skippedUnread let through only the types this service handles
    let failures = 0;
    let delay = backoff.initialMs;
    // Heartbeats run during each attempt and each wait: the attempt itself may block for as long as the
    // database stays unreachable (connection and pool timeouts), longer than the session timeout.
    const keepingMembership = async <T>(work: () => Promise<T>): Promise<T> => {
      const { value, lost } = await withHeartbeats(heartbeat, heartbeatInterval, work);
      if (lost !== undefined) throw lost;
      return value;
    };
    const attempt = () =>
      inSpan(`handle ${event.type}`, { attributes: { 'qtshop.attempt': failures + 1 } }, () => opts.inbox.process(event, (tx) => handler(event, tx)), tracer);
    for (;;) {
      try {
        const result = await withHeartbeats(heartbeat, heartbeatInterval, attempt);
        return await record(event, message, result.value);
      } catch (err) {
        if (err instanceof Unprocessable) {
          log.warn({ error: err.message }, 'event cannot be applied; dead-lettering');
          await deadLetter(topic, partition, message, 'unprocessable', err.message, failures + 1);
          outcomes.inc({ type: event.type, outcome: 'dead_lettered' });
          return 'dead_lettered';
        }
        const transient = isTransient(err);
        if (!transient) failures += 1;
        retries.inc({ type: event.type, kind: transient ? 'transient' : 'failure' });
        if (!transient && failures >= maxAttempts) {
          log.error({ err, attempts: failures }, 'handler keeps failing; dead-lettering');
          await deadLetter(topic, partition, message, 'handler_failed', err instanceof Error ? err.message : String(err), failures);
          outcomes.inc({ type: event.type, outcome: 'dead_lettered' });
          return 'dead_lettered';
        }
        if (stopping && transient) throw err; // leave it uncommitted; the next owner of the partition retries
        log.warn({ err: { message: (err as Error).message, code: (err as { code?: string }).code }, transient, attempt: failures }, 'handler failed; retrying');
        // A rebalance noticed while waiting ends the retries here: thrown, the message stays uncommitted.
        await keepingMembership(() => sleep(delay));
        delay = Math.min(delay * 2, backoff.maxMs);
        await heartbeat().catch((e: unknown) => {
          if (lostMembership(e)) throw e;
        });
      }
    }
  }

  /**
   * Several valid messages of one partition, in offset order, through the inbox's batch: one transaction
   * for all of them. If that fails for any reason (a poison event, the database away, a deadlock), nothing
   * of it committed and each message goes through the one-by-one path, with its retries and dead letters.
   */
  async function handleChunk(topic: string, partition: number, chunk: Array<{ message: KafkaMessage; event: ConsumedEvent }>, heartbeat: () => Promise<void>) {
    if (!opts.inbox.processBatch || chunk.length < 2) {
      for (const { message } of chunk) await traced(topic, partition, message, heartbeat);
      return;
    }
    const spans = chunk.map((c) => startProcessSpan(topic, partition, c.message));
    const items = chunk.map((c, n) => {
      const { ctx } = spans[n]!;
      const handler = handlerOf(c.event)!; // only the types this service handles reach a chunk (skippedUnread)
      return {
        event: c.event,
        fn: (tx: Tx) => context.with(ctx, () => inSpan(`handle ${c.event.type}`, { attributes: { 'qtshop.attempt': 1 } }, () => handler(c.event, tx), tracer)),
      };
    });
    let results: InboxResult[];
    try {
      const { value, lost } = await withHeartbeats(heartbeat, heartbeatInterval, () => opts.inbox.processBatch!(items));
      if (lost !== undefined) throw lost;
      results = value;
    } catch (err) {
      for (const { span } of spans) span.end();
      if (lostMembership(err)) throw err;
      batchFallbacks.inc();
      opts.log.warn(
        {
          topic,
          partition,
          from: chunk[0]!.message.offset,
          to: chunk.at(-1)!.message.offset,
          err: { message: (err as Error).message, code: (err as { code?: string }).code },
        },
        'batch failed; taking its events one by one',
      );
      for (const { message } of chunk) await traced(topic, partition, message, heartbeat);
      return;
    }
    batchSizes.observe(chunk.length);
    for (const [n, c] of chunk.entries()) endSpan(spans[n]!.span, await record(c.event, c.message, results[n]!));
  }

  return {
    consumer,
    async start() {
      await ensureTopics(opts.kafka, [...opts.topics, ...opts.topics.map(dlqTopicOf)]);
      await producer.connect();
      await consumer.connect();
      await consumer.subscribe({ topics: opts.topics, fromBeginning: true });
      await consumer.run({
        autoCommit: true,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently,
        eachBatch: async ({ batch, resolveOffset, heartbeat, commitOffsetsIfNecessary, isRunning, isStale }) => {
          const { topic, partition } = batch;
          let chunk: Array<{ message: KafkaMessage; event: ConsumedEvent }> = [];
          const flush = async () => {
            if (!chunk.length) return;
            await handleChunk(topic, partition, chunk, heartbeat);
            resolveOffset(chunk.at(-1)!.message.offset);
            chunk = [];
            await commitOffsetsIfNecessary();
          };
          for (const message of batch.messages) {
            // Stopping, or the partition moved in a rebalance: what is left stays uncommitted for its next owner.
            if (!isRunning() || isStale()) return;
            if (skippedUnread(message)) continue; // resolved with the next commit, or the batch's end
            const event = await decodeOrDeadLetter(topic, partition, message);
            if (!event) {
              await flush();
              resolveOffset(message.offset);
              continue;
            }
            chunk.push({ message, event });
            if (chunk.length >= maxBatch) await flush();
          }
          if (!isRunning() || isStale()) return;
          await flush();
          // Past the last record: a transaction marker after it would otherwise stay unread forever.
          resolveOffset(batch.lastOffset());
          await commitOffsetsIfNecessary();
        },
      });
      opts.log.info({ groupId: opts.groupId, topics: opts.topics }, 'consuming');
    },
    async stop() {
      stopping = true;
      // disconnect() lets the in-flight message finish and commits resolved offsets before leaving the group.
      await consumer.disconnect();
      await producer.disconnect();
    },
  };
}
