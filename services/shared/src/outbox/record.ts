// The Kafka record of an outbox row, as both relays produce it (the published contract is
// contracts/events/asyncapi.json): topic
// qtshop.<aggregatetype>, key = aggregate id, headers id, eventType, traceparent and createdAt (the row's
// created_at, in UTC, as Debezium prints a timestamptz: ISO 8601 with microseconds and 'Z'; consumers
// measure end-to-end latency from it), value = the JSON payload, no envelope. The outbox writer fills
// traceparent on every row. For a row written by hand with a null traceparent the records differ in one way: Debezium places a header with a null value, the
// polling relay leaves the header out (kafkajs cannot produce a null header value).
import type { Message } from 'kafkajs';
import { z } from 'zod';
import { topicOf } from '../events/registry';
import type { OutboxRow } from './writer';
import { TRACEPARENT } from '../observability/traceparent';

/** The headers of every record, as the published event contract (contracts/events/asyncapi.json) describes them. */
export const RecordHeaders = z.object({
  id: z.uuid().describe('The event id (the outbox row id): the key consumers deduplicate by'),
  eventType: z.string().describe('The event type, which names the payload schema'),
  traceparent: z
    .string()
    .regex(TRACEPARENT)
    .describe(
      "W3C trace context of the producer's span that wrote the event, in the trace of the request or event that caused it; a trace of its own when the producer's tracing is off",
    ),
  createdAt: z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/)
    .describe("The outbox row's created_at in UTC, ISO 8601 with six fractional digits, as Debezium prints it"),
});

export interface OutboxRecord {
  topic: string;
  message: Message;
}

/**
 * SQL for the createdAt header of a timestamptz column, printed the way Debezium writes one
 * (io.debezium.time.ZonedTimestamp with the column's fractional width, 6 for timestamptz): UTC, ISO 8601,
 * exactly six fractional digits, trailing zeros kept, 'Z'. Seen on Debezium 3.3.2:
 * '2026-11-25T08:59:40.501740Z'. Printed by PostgreSQL because a JavaScript Date would lose the microseconds.
 */
export const createdAtHeaderSql = (column: string) => `to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

export function outboxRecord(
  row: Pick<OutboxRow, 'id' | 'aggregatetype' | 'aggregateid' | 'type' | 'payload' | 'traceparent'> & { created_at_header?: string | null },
): OutboxRecord {
  return {
    topic: topicOf(row.aggregatetype),
    message: {
      key: row.aggregateid,
      value: typeof row.payload === 'string' ? row.payload : JSON.stringify(row.payload),
      headers: {
        id: row.id,
        eventType: row.type,
        ...(row.traceparent === null ? {} : { traceparent: row.traceparent }),
        ...(row.created_at_header ? { createdAt: row.created_at_header } : {}),
      },
    },
  };
}
