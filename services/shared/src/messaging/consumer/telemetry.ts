// What a consumer runner reports: its prom-client metrics, its spans, and how it words an error.
//
// Tracing: each message is a consumer span `process <topic>` whose parent is the trace context of the
// record's traceparent header (the outbox write that produced it, see outbox/writer.ts), with the outcome as
// an attribute; each handler attempt is a span `handle <EventType>` inside it, so the events the handler
// writes to its own outbox continue the same trace.
import { context, SpanKind, SpanStatusCode, trace, type TextMapGetter, type Tracer } from '@opentelemetry/api';
import type { IHeaders, KafkaMessage } from 'kafkajs';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { headerString } from '../../infra/kafka';
import { extractContext, failed, inSpan, withTracer } from '../../observability/tracing';
import type { ConsumedEvent } from './event';
import { Park } from './parking';

/** What the runner did with a message (consumer_events_total's outcome label). */
export type Outcome = 'applied' | 'duplicate' | 'stale' | 'skipped' | 'dead_lettered';

/** An error in one line, kafkajs's error type first (logs, /ready, the dlq.error header). */
export const errorText = (err: unknown) => {
  const e = err as { message?: string; type?: string };
  return `${e?.type ? `${e.type}: ` : ''}${e?.message ?? String(err)}`;
};

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

/** The metrics and spans of one consumer group's runner; its gauges start at 0. */
export class ConsumerTelemetry {
  private readonly m: ReturnType<typeof runnerMetrics>;
  private readonly group: { group: string };

  constructor(
    registry: Registry | undefined,
    private readonly groupId: string,
    private readonly tracer: Tracer,
  ) {
    this.group = { group: groupId };
    this.m = runnerMetrics(registry);
    this.m.running.set(this.group, 0);
    this.m.lastFetchAge.set(this.group, 0);
    this.m.waiting.set(this.group, 0);
  }

  /** consumer_events_total. */
  outcome(type: string, outcome: Outcome): void {
    this.m.outcomes.inc({ type, outcome });
  }

  /** consumer_retries_total: a failed handler attempt that is tried again (or parked, or dead-lettered). */
  retried(type: string, transient: boolean): void {
    this.m.retries.inc({ type, kind: transient ? 'transient' : 'failure' });
  }

  /** consumer_event_latency_seconds of an applied event, from its createdAt header (when it has one). */
  applied(type: string, message: KafkaMessage): void {
    const createdAt = Date.parse(headerString(message.headers, 'createdAt') ?? '');
    if (!Number.isNaN(createdAt)) this.m.latency.observe({ group: this.groupId, type }, Math.max(0, Date.now() - createdAt) / 1000);
  }

  /** consumer_batch_events: events applied together in one inbox transaction. */
  batch(events: number): void {
    this.m.batchSizes.observe(events);
  }

  /** consumer_batch_fallbacks_total. */
  batchFellBack(): void {
    this.m.batchFallbacks.inc();
  }

  /** consumer_running. */
  running(on: boolean): void {
    this.m.running.set(this.group, on ? 1 : 0);
  }

  /** consumer_restarts_total. */
  restarted(reason: 'crash' | 'stalled'): void {
    this.m.restarts.inc({ ...this.group, reason });
  }

  /** consumer_last_fetch_age_seconds. */
  lastFetchAge(seconds: number): void {
    this.m.lastFetchAge.set(this.group, seconds);
  }

  /** consumer_partitions_waiting. */
  waiting(partitions: number): void {
    this.m.waiting.set(this.group, partitions);
  }

  /** consumer_dead_letter_failures_total. */
  deadLetterRefused(topic: string): void {
    this.m.deadLetterFailures.inc({ topic });
  }

  /** A consumer span `process <topic>` continuing the trace of the record's traceparent header. */
  startProcessSpan(topic: string, partition: number, message: KafkaMessage) {
    const parent = extractContext(message.headers ?? {}, kafkaHeaderGetter);
    const span = this.tracer.startSpan(
      `process ${topic}`,
      {
        kind: SpanKind.CONSUMER,
        attributes: {
          'messaging.system': 'kafka',
          'messaging.operation.type': 'process',
          'messaging.operation.name': 'process',
          'messaging.destination.name': topic,
          'messaging.destination.partition.id': String(partition),
          'messaging.consumer.group.name': this.groupId,
          'messaging.kafka.offset': Number(message.offset),
          ...(message.key ? { 'messaging.kafka.message.key': message.key.toString('utf8') } : {}),
          ...eventAttributes(message.headers),
        },
      },
      parent,
    );
    return { span, ctx: withTracer(trace.setSpan(parent, span), this.tracer) };
  }

  endSpan(span: ReturnType<ConsumerTelemetry['startProcessSpan']>['span'], outcome: Outcome): void {
    span.setAttribute('qtshop.consumer.outcome', outcome);
    if (outcome === 'dead_lettered') span.setStatus({ code: SpanStatusCode.ERROR, message: 'dead-lettered' });
    span.end();
  }

  /** One decoded event handled on its own (`handle`), in its consumer span. */
  async traced(event: ConsumedEvent, message: KafkaMessage, handle: () => Promise<Outcome>): Promise<void> {
    const { span, ctx } = this.startProcessSpan(event.topic, event.partition, message);
    try {
      this.endSpan(span, await context.with(ctx, handle));
    } catch (err) {
      if (err instanceof Park) span.setAttribute('qtshop.consumer.outcome', 'parked');
      else failed(span, err);
      span.end();
      throw err;
    }
  }

  /** One handler attempt, in a span `handle <EventType>`. */
  handleSpan<T>(type: string, attempt: number, fn: () => Promise<T>): Promise<T> {
    return inSpan(`handle ${type}`, { attributes: { 'qtshop.attempt': attempt } }, fn, this.tracer);
  }
}
