// The outbox writer: the one way every service emits an event. It inserts the
// outbox row inside the caller's transaction, so the event commits or rolls back with the business change.
// Each write is a producer span (`outbox <EventType>`, a child of the request's or the consumed event's
// span) whose W3C context goes into the row's traceparent column; both relays copy it to the record's
// traceparent header, and the consumer's span continues the trace from there (messaging/consumer). With
// tracing off (observability/tracing.ts) there is no span context to carry, and each row starts a trace of its own.
import { randomUUID } from 'node:crypto';
import { SpanKind } from '@opentelemetry/api';
import type { Knex } from 'knex';
import { env, type ConfigOf } from '../platform/config';
import { EVENTS, topicOf, type EventPayload, type EventType } from '../events/registry';
import { EventTooLarge } from './errors';
import { inSpan, traceparentOf } from '../observability/tracing';
import { traceparentFrom } from '../observability/traceparent';

/** The outbox table (its migrations are tooling/outbox-table.ts). */
export const OUTBOX_TABLE = 'outbox';

export interface OutboxEvent<T extends EventType> {
  type: T;
  aggregateId: string;
  payload: EventPayload<T>;
  /** Supplied by callers that must know the id in advance (tests, idempotent retries); a fresh UUID otherwise. */
  id?: string;
}

export interface OutboxRow {
  id: string;
  position: string;
  aggregatetype: string;
  aggregateid: string;
  type: string;
  payload: unknown;
  created_at: Date;
  sent_at: Date | null;
  traceparent: string | null;
  seen_at: Date | null;
  quarantined_at: Date | null;
  quarantine_error: string | null;
}

/** Settings of every service that writes an outbox (spread into its config; outboxLimits reads them). */
export const outboxSettings = {
  OUTBOX_MAX_EVENT_BYTES: {
    doc: "Largest event payload (JSON bytes) the outbox writer accepts; a larger one is refused with 413 and nothing is written. Keep it well under Kafka's 1 MB record limit",
    default: '262144',
    schema: env.int(1),
  },
};

export interface OutboxLimits {
  /** Largest event payload, in JSON bytes (OUTBOX_MAX_EVENT_BYTES). */
  maxEventBytes: number;
}

/** The writer's limits from a service's config. */
export const outboxLimits = (c: ConfigOf<typeof outboxSettings>): OutboxLimits => ({ maxEventBytes: c.OUTBOX_MAX_EVENT_BYTES });

/** Writes events into the outbox, within the caller's transaction. */
export interface OutboxWriter {
  append<T extends EventType>(trx: Knex.Transaction, event: OutboxEvent<T>): Promise<string>;
}

/** An outbox writer with `limits` (by default OUTBOX_MAX_EVENT_BYTES's default: tests, tools, benchmarks). */
export function createOutboxWriter(limits: OutboxLimits = { maxEventBytes: Number(outboxSettings.OUTBOX_MAX_EVENT_BYTES.default) }): OutboxWriter {
  return { append: (trx, event) => appendToOutbox(trx, event, limits) };
}

/**
 * Validates the payload against its event schema and inserts the outbox row with `trx`, in a span of its own
 * whose trace context is the row's traceparent. Returns the event id.
 *
 * Every row gets a traceparent, because the Debezium EventRouter places the column as a header even when it
 * is null, and kafkajs cannot produce a null header value (sizeOfHeaders calls Buffer.byteLength(null)); a
 * non-null value keeps both relays' records identical. With tracing off the span has no context to give,
 * and the row gets the root of a new trace.
 */
async function appendToOutbox<T extends EventType>(trx: Knex.Transaction, event: OutboxEvent<T>, limits: OutboxLimits): Promise<string> {
  const def = EVENTS[event.type];
  const id = event.id ?? randomUUID();
  const attributes = {
    'messaging.system': 'kafka',
    'messaging.operation.type': 'create',
    'messaging.operation.name': 'outbox',
    'messaging.destination.name': topicOf(def.aggregateType),
    'messaging.message.id': id,
    'messaging.kafka.message.key': event.aggregateId,
    'qtshop.event.type': event.type,
  };
  return inSpan(`outbox ${event.type}`, { kind: SpanKind.PRODUCER, attributes }, async () => {
    const payload = def.schema.parse(event.payload);
    const json = JSON.stringify(payload);
    const bytes = Buffer.byteLength(json);
    // Prevented here rather than quarantined later: a record over Kafka's limit can never be delivered.
    if (bytes > limits.maxEventBytes) throw new EventTooLarge(event.type, bytes, limits.maxEventBytes);
    await trx(OUTBOX_TABLE).insert({
      id,
      aggregatetype: def.aggregateType,
      aggregateid: event.aggregateId,
      type: event.type,
      payload: json,
      traceparent: traceparentOf() ?? traceparentFrom(),
    });
    return id;
  });
}
