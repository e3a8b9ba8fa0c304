// The Kafka record of an outbox row, as both relays produce it (DESIGN.md "Kafka records"): topic
// qtshop.<aggregatetype>, key = aggregate id, headers id, eventType and traceparent, value = the JSON
// payload, no envelope. The outbox writer fills traceparent on every row. For a row written by hand with
// a null traceparent the records differ in one way: Debezium places a header with a null value, the
// polling relay leaves the header out (kafkajs cannot produce a null header value).
import type { Message } from 'kafkajs';
import { topicOf } from './events';
import type { OutboxRow } from './outbox';

export interface OutboxRecord {
  topic: string;
  message: Message;
}

export function outboxRecord(row: Pick<OutboxRow, 'id' | 'aggregatetype' | 'aggregateid' | 'type' | 'payload' | 'traceparent'>): OutboxRecord {
  return {
    topic: topicOf(row.aggregatetype),
    message: {
      key: row.aggregateid,
      value: typeof row.payload === 'string' ? row.payload : JSON.stringify(row.payload),
      headers: { id: row.id, eventType: row.type, ...(row.traceparent === null ? {} : { traceparent: row.traceparent }) },
    },
  };
}
