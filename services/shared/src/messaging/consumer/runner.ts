// The consumer runner every consuming service uses.
//
// For each message: validate (id header, known eventType, JSON value, zod schema of the type) — anything
// invalid goes to <topic>.dlq at once; then run the handler inside the service's inbox (PostgreSQL: one
// transaction with the processed_events insert; MongoDB: see mongo-inbox.ts), so a redelivered event
// changes nothing. The offset is resolved only after that commits; kafkajs commits resolved offsets after
// the batch. Transient failures (database unreachable, failing over, read-only, serialization conflicts)
// are retried with backoff for as long as they last, without skipping the message, and the consumer keeps
// heartbeating meanwhile, so it keeps its partitions. Any other handler failure is retried as
// consumer-retry.ts decides: a few times in place, then with its partition parked (consumer-parking.ts)
// until CONSUMER_RETRY_BUDGET_MS, then dead-lettered.
//
// Nothing stops a consumer silently:
// - a dead letter Kafka refuses (the DLQ's size limit, an ACL, a deleted DLQ) parks the partition and is
//   retried with backoff until Kafka takes it: the message is never dropped, the rest of the consumer goes
//   on, and /ready names the partition that waits and why;
// - a consumer that stops consuming (kafkajs crashed and will not restart, or no fetch completed for
//   CONSUMER_STALL_MS while it has partitions: consumer-liveness.ts) is restarted with a fresh kafkajs
//   consumer, with backoff; after CONSUMER_MAX_RESTARTS restarts in a row that did not get it consuming,
//   onGiveUp ends the process (startService exits 1) so that its supervisor starts it afresh.
// problems() is what the service's /ready says about its consumers; the metrics are consumer_running,
// consumer_restarts_total, consumer_last_fetch_age_seconds and consumer_partitions_waiting.
//
// Batches: consecutive valid events of one fetched partition batch (up to CONSUMER_MAX_BATCH) go through the
// inbox together (PostgreSQL: one transaction, one multi-row inbox insert, the handlers in offset order, one
// commit), so a busy consumer pays one commit per batch instead of one per event. If the batch fails for
// any reason its events are taken one by one through the path above (the inbox skips those it recorded),
// so a poison event is still dead-lettered alone and the others are applied once. An invalid message ends
// the batch before it (it is dead-lettered in its place in the order). Offsets are resolved after each commit.
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
import { context, SpanKind, SpanStatusCode, trace, type Tracer } from '@opentelemetry/api';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { Consumer, EachBatchPayload, IHeaders, Kafka, KafkaMessage, Producer } from 'kafkajs';
import {
  DeadLetter,
  decodeEvent,
  DLQ_HEADERS,
  dlqTopicOf,
  eventAttributes,
  kafkaHeaderGetter,
  lostMembership,
  Unprocessable,
  withHeartbeats,
  type ConsumedEvent,
  type ConsumerTuning,
  type DlqReason,
  type HandlerResult,
  type Handlers,
  type Inbox,
  type InboxResult,
} from './consumer';
import { ConsumerLiveness } from './liveness';
import { Park, ParkingLot, type WaitingPartition } from './parking';
import { afterFailure, backoffDelay, parkedExpired, type RetryPolicy } from './retry';
import { isEventType } from '../../events/registry';
import { ensureTopics, headerString } from '../../infra/kafka';
import type { Logger } from '../../platform/logging';
import { isUuid } from '../../platform/ids';
import { activeTracer, extractContext, failed, inSpan, withTracer } from '../../observability/tracing';
import { isEventFault, isTransient } from '../../infra/transient';
import { isStale } from '../../events/versions';

export interface ConsumerRunnerOptions<Tx> extends Partial<ConsumerTuning> {
  kafka: Kafka;
  /** One consumer group per service. */
  groupId: string;
  topics: string[];
  handlers: Handlers<Tx>;
  inbox: Inbox<Tx>;
  log: Logger;
  registry?: Registry;
  /** In-place attempts for a failing handler before it is parked or dead-lettered (transient failures do not count). */
  maxAttempts?: number;
  /** The in-place backoff between attempts. */
  backoff?: { initialMs: number; maxMs: number };
  /** Called after the inbox committed an applied event and before its offset is resolved (metrics, tests). */
  onApplied?: (event: ConsumedEvent) => void | Promise<void>;
  /** How long the group waits for a silent member before reassigning its partitions (kafkajs default 30 s). */
  sessionTimeoutMs?: number;
  /** The service's tracer (tracing.ts startTracing); the process's when absent. */
  tracer?: Tracer;
  /** Restarts in a row did not get the consumer consuming (CONSUMER_MAX_RESTARTS): the process should end. */
  onGiveUp?: (err: Error) => void;
}

export interface ConsumerRunner {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** The kafkajs consumer running now (a restart replaces it). */
  readonly consumer: Consumer;
  readonly groupId: string;
  /** What keeps this consumer from doing its job, one sentence each; empty while it consumes. */
  problems(): string[];
  /** Partitions paused behind a message that cannot be settled yet. */
  waiting(): WaitingPartition[];
}

/** What the runner did with a message (consumer_events_total's outcome label). */
type Outcome = 'applied' | 'duplicate' | 'stale' | 'skipped' | 'dead_lettered';

const RESTART_BACKOFF_MAX_MS = 30_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const errorText = (err: unknown) => {
  const e = err as { message?: string; type?: string };
  return `${e?.type ? `${e.type}: ` : ''}${e?.message ?? String(err)}`;
};

function runnerMetrics(registry: Registry | undefined) {
  const registers = registry ? [registry] : [];
  return {
    outcomes: new Counter({
      name: 'consumer_events_total',
      help: 'Consumed events by type and outcome (applied, duplicate, stale, skipped, dead_lettered)',
      labelNames: ['type', 'outcome'],
      registers,
    }),
    retries: new Counter({ name: 'consumer_retries_total', help: 'Handler retries by type and kind', labelNames: ['type', 'kind'], registers }),
    latency: new Histogram({
      name: 'consumer_event_latency_seconds',
      help: "Applied events: from the outbox row's created_at (createdAt header, both relays) to the handler's commit, by consumer group and type",
      labelNames: ['group', 'type'],
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
      registers,
    }),
    batchSizes: new Histogram({
      name: 'consumer_batch_events',
      help: 'Events applied together in one inbox transaction (batches of two or more)',
      buckets: [2, 5, 10, 20, 50, 100, 200, 500],
      registers,
    }),
    batchFallbacks: new Counter({
      name: 'consumer_batch_fallbacks_total',
      help: 'Batches whose transaction failed and whose events were then taken one by one',
      registers,
    }),
    running: new Gauge({
      name: 'consumer_running',
      help: '1 while the consumer group member is consuming, 0 while it is not',
      labelNames: ['group'],
      registers,
    }),
    restarts: new Counter({
      name: 'consumer_restarts_total',
      help: 'Consumers restarted by their service (crashed for good, or stalled), by reason',
      labelNames: ['group', 'reason'],
      registers,
    }),
    lastFetchAge: new Gauge({
      name: 'consumer_last_fetch_age_seconds',
      help: 'Seconds since the consumer last completed a fetch or a batch (an idle consumer fetches every 0.5 s)',
      labelNames: ['group'],
      registers,
    }),
    waiting: new Gauge({
      name: 'consumer_partitions_waiting',
      help: 'Partitions paused behind a message that cannot be settled yet (a refused dead letter, a handler failing within the retry budget)',
      labelNames: ['group'],
      registers,
    }),
    deadLetterFailures: new Counter({
      name: 'consumer_dead_letter_failures_total',
      help: 'Dead-letter sends Kafka refused or that failed (retried with backoff; the message waits), by original topic',
      labelNames: ['topic'],
      registers,
    }),
  };
}

export function createConsumerRunner<Tx>(opts: ConsumerRunnerOptions<Tx>): ConsumerRunner {
  const policy: RetryPolicy = {
    maxAttempts: opts.maxAttempts ?? 5,
    budgetMs: opts.retryBudgetMs ?? 300_000,
    backoff: opts.backoff ?? { initialMs: 100, maxMs: 5000 },
    parkedMaxMs: opts.parkedBackoffMaxMs ?? 10_000,
  };
  const stallMs = opts.stallMs ?? 60_000;
  const restartBackoffMs = opts.restartBackoffMs ?? 1000;
  const maxRestarts = opts.maxRestarts ?? 5;
  const sessionTimeout = opts.sessionTimeoutMs ?? 30_000;
  const heartbeatInterval = Math.min(3000, Math.floor(sessionTimeout / 3));
  const maxBatch = opts.maxBatch ?? 100;
  const partitionsConsumedConcurrently = opts.partitionsConsumedConcurrently ?? 1;
  const tracer = opts.tracer ?? activeTracer();
  const group = { group: opts.groupId };
  const m = runnerMetrics(opts.registry);
  // Retries are bounded so that a refused dead letter fails its attempt in seconds; the parking lot retries it.
  const producer: Producer = opts.kafka.producer({ idempotent: true, maxInFlightRequests: 1, retry: { retries: 3 } });
  const liveness = new ConsumerLiveness(Date.now());
  const lot = new ParkingLot({
    initialMs: policy.backoff.initialMs * 2 ** Math.max(0, policy.maxAttempts - 1),
    maxMs: policy.parkedMaxMs,
    log: opts.log.child({ groupId: opts.groupId }),
    onChange: () => m.waiting.set(group, lot.waiting().length),
  });
  let stopping = false;
  let current: Consumer | undefined;
  let watchdog: NodeJS.Timeout | undefined;
  let restarting: Promise<void> | undefined;
  /** Restarts since the consumer last consumed for stallMs in a row. */
  let restartsInARow = 0;
  let lastRestartAt = 0;
  m.running.set(group, 0);
  m.lastFetchAge.set(group, 0);
  m.waiting.set(group, 0);

  function dlqHeaders(topic: string, partition: number, message: KafkaMessage, reason: DlqReason, error: string, attempts: number): IHeaders {
    return {
      ...(message.headers ?? {}),
      [DLQ_HEADERS.reason]: reason,
      [DLQ_HEADERS.error]: error.slice(0, 2000),
      [DLQ_HEADERS.topic]: topic,
      [DLQ_HEADERS.partition]: String(partition),
      [DLQ_HEADERS.offset]: message.offset,
      [DLQ_HEADERS.group]: opts.groupId,
      [DLQ_HEADERS.attempts]: String(attempts),
      [DLQ_HEADERS.failedAt]: new Date().toISOString(),
    };
  }

  /**
   * Dead-letters a message; when Kafka refuses (or the send fails), throws Park so that its partition waits
   * while the same dead letter is retried in the background: the message is never dropped.
   */
  async function deadLetter(topic: string, partition: number, message: KafkaMessage, reason: DlqReason, error: string, attempts: number) {
    const send = () =>
      producer.send({
        topic: dlqTopicOf(topic),
        acks: -1,
        messages: [{ key: message.key, value: message.value, headers: dlqHeaders(topic, partition, message, reason, error, attempts) }],
      });
    const done = () => m.outcomes.inc({ type: headerString(message.headers, 'eventType') ?? 'none', outcome: 'dead_lettered' });
    const refused = (err: unknown) => {
      m.deadLetterFailures.inc({ topic });
      return `its dead letter to ${dlqTopicOf(topic)} (${reason}) is refused: ${errorText(err)}; retrying until Kafka takes it`;
    };
    try {
      await send();
      done();
    } catch (err) {
      if (stopping) throw err;
      throw new Park(topic, partition, message.offset, refused(err), { attempt: async () => (await send(), done()), why: refused }, fieldsOf(message));
    }
  }

  const fieldsOf = (message: KafkaMessage) => ({ eventId: headerString(message.headers, 'id'), eventType: headerString(message.headers, 'eventType') });

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

  /** Handles one decoded event on its own, in its consumer span. */
  async function traced(event: ConsumedEvent, message: KafkaMessage, heartbeat: () => Promise<void>): Promise<void> {
    const { span, ctx } = startProcessSpan(event.topic, event.partition, message);
    try {
      endSpan(span, await context.with(ctx, () => handle(event, message, heartbeat)));
    } catch (err) {
      if (err instanceof Park) span.setAttribute('qtshop.consumer.outcome', 'parked');
      else failed(span, err);
      span.end();
      throw err;
    }
  }

  const handlerOf = (event: ConsumedEvent) => opts.handlers[event.type] as ((e: ConsumedEvent, tx: Tx) => Promise<HandlerResult>) | undefined;
  const eventLog = (event: ConsumedEvent) =>
    opts.log.child({ eventId: event.id, eventType: event.type, topic: event.topic, partition: event.partition, offset: event.offset });

  /** Counts and logs what the inbox did with an event; for an applied one, its latency and onApplied. */
  async function record(event: ConsumedEvent, message: KafkaMessage, r: InboxResult): Promise<Outcome> {
    const log = eventLog(event);
    if (isStale(r)) {
      m.outcomes.inc({ type: event.type, outcome: 'stale' });
      log.info({ result: 'stale', heldVersion: r.held, eventVersion: r.incoming }, 'stale event skipped: the state it would change is at least as new');
      return 'stale';
    }
    m.outcomes.inc({ type: event.type, outcome: r });
    log.info({ result: r }, r === 'applied' ? 'event applied' : 'duplicate event ignored');
    if (r === 'applied') {
      const createdAt = Date.parse(headerString(message.headers, 'createdAt') ?? '');
      if (!Number.isNaN(createdAt)) m.latency.observe({ group: opts.groupId, type: event.type }, Math.max(0, Date.now() - createdAt) / 1000);
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
    if (!isEventType(type) || opts.handlers[type] || !isUuid(headerString(message.headers, 'id'))) return false;
    m.outcomes.inc({ type, outcome: 'skipped' });
    return true;
  }

  /** One attempt of the event's handler through the inbox, in a span `handle <EventType>`. */
  const attemptOf = (event: ConsumedEvent, attempt: number) => () =>
    inSpan(
      `handle ${event.type}`,
      { attributes: { 'qtshop.attempt': attempt } },
      () => opts.inbox.process(event, (tx) => handlerOf(event)!(event, tx)),
      tracer,
    );

  /**
   * The background attempts of an event parked after its quick attempts failed: retried until the budget
   * from its first failure is spent, then dead-lettered (itself retried until Kafka takes it).
   */
  function parkedHandler(event: ConsumedEvent, message: KafkaMessage, firstFailureAt: number, failures: number, why: string): Park {
    const log = eventLog(event);
    let attempts = failures;
    let deadLettering: { reason: DlqReason; error: string } | undefined;
    const sendDeadLetter = async (reason: DlqReason, error: string) => {
      deadLettering = { reason, error };
      log.error({ attempts, reason, error }, 'handler keeps failing; dead-lettering');
      // A refusal here is retried by the parking lot itself: deadLettering is set, so the next attempt only sends.
      await producer.send({
        topic: dlqTopicOf(event.topic),
        acks: -1,
        messages: [{ key: message.key, value: message.value, headers: dlqHeaders(event.topic, event.partition, message, reason, error, attempts) }],
      });
      m.outcomes.inc({ type: event.type, outcome: 'dead_lettered' });
    };
    return new Park(
      event.topic,
      event.partition,
      event.offset,
      why,
      {
        attempt: async () => {
          if (deadLettering) return sendDeadLetter(deadLettering.reason, deadLettering.error);
          try {
            attempts += 1;
            await record(event, message, await attemptOf(event, attempts)());
          } catch (err) {
            if (err instanceof Unprocessable) return sendDeadLetter('unprocessable', err.message);
            const transient = isTransient(err);
            m.retries.inc({ type: event.type, kind: transient ? 'transient' : 'failure' });
            if (!transient && (isEventFault(err) || parkedExpired(policy, Date.now() - firstFailureAt)))
              return sendDeadLetter('handler_failed', errorText(err));
            throw err;
          }
        },
        why: (err) => {
          if (deadLettering) {
            m.deadLetterFailures.inc({ topic: event.topic });
            return `its dead letter to ${dlqTopicOf(event.topic)} (${deadLettering.reason}) is refused: ${errorText(err)}; retrying until Kafka takes it`;
          }
          return `its handler keeps failing (${attempts} attempts, ${Math.round((Date.now() - firstFailureAt) / 1000)} s of ${policy.budgetMs / 1000} s before it is dead-lettered): ${errorText(err)}`;
        },
      },
      { eventId: event.id, eventType: event.type },
    );
  }

  /** One event the batch decoded, of a type this service handles: retried, parked or dead-lettered as consumer-retry.ts decides. */
  async function handle(event: ConsumedEvent, message: KafkaMessage, heartbeat: () => Promise<void>): Promise<Outcome> {
    const { topic, partition } = event;
    const log = eventLog(event);
    let failures = 0;
    let waits = 0;
    let firstFailureAt = 0;
    // Heartbeats run during each attempt and each wait: the attempt itself may block for as long as the
    // database stays unreachable (connection and pool timeouts), longer than the session timeout.
    for (;;) {
      try {
        const result = await withHeartbeats(heartbeat, heartbeatInterval, attemptOf(event, failures + 1));
        return await record(event, message, result.value);
      } catch (err) {
        if (err instanceof Unprocessable) {
          log.warn({ error: err.message }, 'event cannot be applied; dead-lettering');
          await deadLetter(topic, partition, message, 'unprocessable', err.message, failures + 1);
          return 'dead_lettered';
        }
        const transient = isTransient(err);
        if (!transient) failures += 1;
        firstFailureAt ||= Date.now();
        m.retries.inc({ type: event.type, kind: transient ? 'transient' : 'failure' });
        if (stopping && transient) throw err; // leave it uncommitted; the next owner of the partition retries
        const next = afterFailure(policy, { failures, waits, transient, elapsedMs: Date.now() - firstFailureAt, eventFault: isEventFault(err) });
        if (next.action === 'dead-letter') {
          log.error({ err, attempts: failures }, 'handler keeps failing; dead-lettering');
          await deadLetter(topic, partition, message, 'handler_failed', errorText(err), failures);
          return 'dead_lettered';
        }
        if (next.action === 'park') {
          throw parkedHandler(event, message, firstFailureAt, failures, `its handler keeps failing (${failures} attempts): ${errorText(err)}; retrying it`);
        }
        log.warn({ err: { message: (err as Error).message, code: (err as { code?: string }).code }, transient, attempt: failures }, 'handler failed; retrying');
        // A rebalance noticed while waiting ends the retries here: thrown, the message stays uncommitted.
        const { lost } = await withHeartbeats(heartbeat, heartbeatInterval, () => sleep(next.delayMs));
        if (lost !== undefined) throw lost;
        waits += 1;
        await heartbeat().catch((e: unknown) => {
          if (lostMembership(e)) throw e;
        });
      }
    }
  }

  /**
   * Several valid messages of one partition, in offset order, through the inbox's batch: one transaction
   * for all of them. If that fails for any reason (a poison event, the database away, a deadlock), nothing
   * of it committed and each message goes through the one-by-one path, with its retries and dead letters,
   * each resolved as it is settled (a parked one leaves those before it resolved).
   */
  async function handleChunk(
    topic: string,
    partition: number,
    chunk: Array<{ message: KafkaMessage; event: ConsumedEvent }>,
    heartbeat: () => Promise<void>,
    resolveOffset: (offset: string) => void,
  ) {
    const oneByOne = async () => {
      for (const { message, event } of chunk) {
        await traced(event, message, heartbeat);
        resolveOffset(message.offset);
      }
    };
    if (!opts.inbox.processBatch || chunk.length < 2) return oneByOne();
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
      m.batchFallbacks.inc();
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
      return oneByOne();
    }
    m.batchSizes.observe(chunk.length);
    for (const [n, c] of chunk.entries()) endSpan(spans[n]!.span, await record(c.event, c.message, results[n]!));
    resolveOffset(chunk.at(-1)!.message.offset);
  }

  /** One fetched batch of one partition; a message that cannot be settled now parks the partition (Park). */
  async function eachBatch(consumer: Consumer, payload: EachBatchPayload): Promise<void> {
    const { batch, resolveOffset, heartbeat, commitOffsetsIfNecessary, isRunning, isStale: moved, pause } = payload;
    const { topic, partition } = batch;
    let chunk: Array<{ message: KafkaMessage; event: ConsumedEvent }> = [];
    const flush = async () => {
      if (!chunk.length) return;
      const taken = chunk;
      chunk = [];
      await handleChunk(topic, partition, taken, heartbeat, resolveOffset);
      await commitOffsetsIfNecessary();
    };
    liveness.enterBatch();
    try {
      for (const message of batch.messages) {
        // Stopping, or the partition moved in a rebalance: what is left stays uncommitted for its next owner.
        if (!isRunning() || moved()) return;
        if (lot.settledAt(topic, partition, message.offset)) {
          resolveOffset(message.offset); // settled while its partition was parked: neither applied nor dead-lettered again
          continue;
        }
        if (skippedUnread(message)) continue; // resolved with the next commit, or the batch's end
        let event: ConsumedEvent | undefined;
        try {
          event = decodeEvent(topic, partition, message);
        } catch (err) {
          if (!(err instanceof DeadLetter)) throw err;
          await flush(); // the events before it first: a refused dead letter parks the partition behind them
          opts.log.warn({ topic, partition, offset: message.offset, reason: err.reason, error: err.message }, 'dead-lettering invalid message');
          await deadLetter(topic, partition, message, err.reason, err.message, 0);
          resolveOffset(message.offset);
          continue;
        }
        chunk.push({ message, event });
        if (chunk.length >= maxBatch) await flush();
      }
      if (!isRunning() || moved()) return;
      await flush();
      // Past the last record: a transaction marker after it would otherwise stay unread forever.
      resolveOffset(batch.lastOffset());
      await commitOffsetsIfNecessary();
    } catch (err) {
      if (!(err instanceof Park)) throw err;
      // What was settled before it is committed; the message itself stays unresolved, its partition paused.
      await commitOffsetsIfNecessary().catch(() => undefined);
      pause();
      lot.park(err, () => {
        if (current === consumer) consumer.resume([{ topic, partitions: [partition] }]);
      });
    } finally {
      liveness.leaveBatch(Date.now());
    }
  }

  /** A kafkajs consumer wired to the liveness state; events of a replaced one are ignored. */
  function newConsumer(): Consumer {
    const consumer = opts.kafka.consumer({
      groupId: opts.groupId,
      // A fetch returns as soon as a record arrives; the wait only bounds an idle fetch (an idle consumer's cost).
      maxWaitTimeInMs: 500,
      sessionTimeout,
      heartbeatInterval,
      retry: { retries: 10 },
    });
    const mine = () => current === consumer && !stopping;
    consumer.on(consumer.events.FETCH, () => {
      if (!mine()) return;
      liveness.fetched(Date.now());
      m.running.set(group, liveness.phase === 'consuming' ? 1 : 0);
      if (restartsInARow > 0 && Date.now() - lastRestartAt > stallMs) restartsInARow = 0;
    });
    consumer.on(consumer.events.GROUP_JOIN, (e) => {
      if (!mine()) return;
      const assignment = e.payload.memberAssignment;
      liveness.joined(
        Object.values(assignment).reduce((n, ps) => n + ps.length, 0),
        Date.now(),
      );
      m.running.set(group, 1);
      lot.release((t, p) => (assignment[t] ?? []).includes(p));
    });
    consumer.on(consumer.events.CRASH, (e) => {
      if (!mine()) return;
      const { error, restart } = e.payload;
      m.running.set(group, 0);
      if (restart) {
        liveness.set('crashed', `kafkajs crashed (${errorText(error)}) and restarts it`, Date.now());
        return;
      }
      liveness.set('crashed', `kafkajs crashed for good: ${errorText(error)}`, Date.now());
      void restartConsumer(`crashed: ${errorText(error)}`, 'crash');
    });
    return consumer;
  }

  async function run(consumer: Consumer): Promise<void> {
    await consumer.connect();
    await consumer.subscribe({ topics: opts.topics, fromBeginning: true });
    await consumer.run({
      autoCommit: true,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently,
      eachBatch: (payload) => eachBatch(consumer, payload),
    });
  }

  /** Replaces the kafkajs consumer after a backoff; gives up (onGiveUp) after maxRestarts in a row. */
  function restartConsumer(why: string, reason: 'crash' | 'stalled'): Promise<void> {
    restarting ??= (async () => {
      try {
        while (!stopping) {
          restartsInARow += 1;
          if (restartsInARow > maxRestarts) {
            const err = new Error(`consumer ${opts.groupId} did not consume again after ${maxRestarts} restarts (${why})`);
            opts.log.fatal({ err, groupId: opts.groupId }, 'giving up on the consumer; the process must be restarted');
            liveness.set('stopped', `gave up after ${maxRestarts} restarts: ${why}`, Date.now());
            opts.onGiveUp?.(err);
            return;
          }
          const delayMs = backoffDelay(restartBackoffMs, Math.max(restartBackoffMs, RESTART_BACKOFF_MAX_MS), restartsInARow - 1);
          m.restarts.inc({ ...group, reason });
          opts.log.error({ groupId: opts.groupId, why, restart: restartsInARow, delayMs }, 'consumer stopped consuming; restarting it');
          liveness.set('restarting', `${why}; restart ${restartsInARow} of ${maxRestarts} in ${delayMs} ms`, Date.now());
          m.running.set(group, 0);
          const old = current;
          current = undefined;
          await lot.clear();
          await old?.disconnect().catch(() => undefined);
          await sleep(delayMs);
          if (stopping) return;
          lastRestartAt = Date.now();
          const fresh = newConsumer();
          current = fresh;
          liveness.set('starting', 'restarted; joining its group', Date.now());
          try {
            await run(fresh);
            return;
          } catch (err) {
            why = `restart failed: ${errorText(err)}`;
          }
        }
      } finally {
        restarting = undefined;
      }
    })();
    return restarting;
  }

  function watch(): void {
    const now = Date.now();
    m.lastFetchAge.set(group, Math.max(0, now - liveness.lastFetchAt) / 1000);
    if (stopping || restarting) return;
    if (liveness.stalled(now, stallMs)) {
      void restartConsumer(
        `no fetch completed for ${Math.round((now - liveness.lastFetchAt) / 1000)} s with ${liveness.assigned} partition(s) assigned`,
        'stalled',
      );
    }
  }

  // Made now, so that callers can listen to its events before start().
  current = newConsumer();
  return {
    get consumer() {
      return current!;
    },
    groupId: opts.groupId,
    problems() {
      const now = Date.now();
      const out: string[] = [];
      const p = liveness.problem(now);
      if (p) out.push(`${opts.groupId} ${p}`);
      for (const w of lot.waiting())
        out.push(`${opts.groupId}: ${w.topic}[${w.partition}] waits at offset ${w.offset} for ${Math.round((now - w.since) / 1000)} s: ${w.reason}`);
      return out;
    },
    waiting: () => lot.waiting(),
    async start() {
      await ensureTopics(opts.kafka, [...opts.topics, ...opts.topics.map(dlqTopicOf)]);
      await producer.connect();
      current ??= newConsumer();
      await run(current);
      watchdog = setInterval(watch, Math.min(5000, Math.max(250, stallMs / 4)));
      watchdog.unref();
      opts.log.info({ groupId: opts.groupId, topics: opts.topics }, 'consuming');
    },
    async stop() {
      stopping = true;
      if (watchdog) clearInterval(watchdog);
      await restarting;
      await lot.clear();
      // disconnect() lets the in-flight message finish and commits resolved offsets before leaving the group.
      await current?.disconnect();
      liveness.set('stopped', 'stopped', Date.now());
      m.running.set(group, 0);
      await producer.disconnect();
    },
  };
}
