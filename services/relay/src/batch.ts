// Pure decisions of the relay's publishing step (unit-tested without I/O): which fetched rows go into one
// send so that it never exceeds Kafka's request size, and which rows can never be published (quarantined
// at once).
//
// Poison is what is wrong with the row itself, decided here before anything is sent: larger than the
// relay's own limit (OUTBOX_BATCH_MAX_BYTES), an aggregate type that makes no legal topic name, a payload
// that cannot be made a record. Whatever Kafka refuses (MESSAGE_TOO_LARGE from a topic whose
// max.message.bytes is below the relay's limit, TOPIC_AUTHORIZATION_FAILED, POLICY_VIOLATION, an unknown
// topic, not enough replicas) comes from the cluster's state, which an operator may change back at any
// moment: an outage, retried with backoff until Kafka accepts (polling.ts), never a quarantine.
import type { Message, TopicMessages } from 'kafkajs';
import { type OutboxRow, outboxRecord } from '@qtshop/shared/outbox';

export type UnsentRow = Pick<OutboxRow, 'id' | 'position' | 'aggregatetype' | 'aggregateid' | 'type' | 'payload' | 'traceparent'> & {
  /** The createdAt header text (createdAtHeaderSql); absent in unit tests. */
  created_at_header?: string | null;
};

export interface PlannedRecord {
  row: UnsentRow;
  topic: string;
  message: Message;
  bytes: number;
}

export interface Quarantine {
  row: UnsentRow;
  error: string;
}

export interface BatchPlan {
  /** Rows to publish now, in position order. */
  send: PlannedRecord[];
  /** Rows that can never be published as they are. */
  quarantine: Quarantine[];
  /** Rows left for the next poll because the batch is full (by bytes). */
  deferred: number;
}

/** Kafka's rule for topic names (kafka.common.internals.Topic): 1–249 of [a-zA-Z0-9._-]. */
const LEGAL_TOPIC = /^[a-zA-Z0-9._-]{1,249}$/;

/**
 * Bytes a record takes in a produce request, a little over (key, value, header names and values, plus
 * per-record framing). Kafka's limit (message.max.bytes, 1 MB by default) applies to the record batch of
 * a partition; the relay bounds the whole send, which bounds every partition's batch too.
 */
export function recordBytes(message: Message): number {
  const len = (v: unknown) => (v === null || v === undefined ? 0 : Buffer.isBuffer(v) ? v.length : Buffer.byteLength(String(v)));
  let bytes = 64 + len(message.key) + len(message.value);
  for (const [k, v] of Object.entries(message.headers ?? {})) bytes += 8 + Buffer.byteLength(k) + len(v);
  return bytes;
}

/**
 * Splits fetched rows (position order) into what one send carries (at most `maxBytes`), what must be
 * quarantined (an illegal topic name, a record larger than `maxBytes` on its own) and how many wait for
 * the next poll. Quarantined rows never hold back the rows behind them.
 */
export function planBatch(rows: UnsentRow[], maxBytes: number): BatchPlan {
  const plan: BatchPlan = { send: [], quarantine: [], deferred: 0 };
  let total = 0;
  for (const [i, row] of rows.entries()) {
    let record: ReturnType<typeof outboxRecord>;
    try {
      record = outboxRecord(row);
    } catch (err) {
      plan.quarantine.push({ row, error: `unserializable: the row cannot be made a record (${(err as Error).message})` });
      continue;
    }
    const { topic, message } = record;
    if (!LEGAL_TOPIC.test(topic)) {
      plan.quarantine.push({ row, error: `unroutable: "${topic}" is not a legal Kafka topic name (aggregatetype ${JSON.stringify(row.aggregatetype)})` });
      continue;
    }
    const bytes = recordBytes(message);
    if (bytes > maxBytes) {
      plan.quarantine.push({ row, error: `too large: the record takes ${bytes} bytes; the relay sends at most ${maxBytes} (OUTBOX_BATCH_MAX_BYTES)` });
      continue;
    }
    if (total + bytes > maxBytes) {
      plan.deferred = rows.length - i;
      break;
    }
    total += bytes;
    plan.send.push({ row, topic, message, bytes });
  }
  return plan;
}

/** One entry per topic, records in row order (rows come in position order, so per-key order is kept). */
export function topicMessagesOf(records: Array<Pick<PlannedRecord, 'topic' | 'message'>>): TopicMessages[] {
  const byTopic = new Map<string, TopicMessages>();
  for (const { topic, message } of records) {
    const entry = byTopic.get(topic) ?? { topic, messages: [] };
    entry.messages.push(message);
    byTopic.set(topic, entry);
  }
  return [...byTopic.values()];
}

/** The Kafka protocol error type behind a kafkajs error (walking its causes), if any. */
export function protocolErrorType(err: unknown): string | undefined {
  for (let e = err as { type?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 10; e = e.cause as typeof e, depth++) {
    if (typeof e.type === 'string') return e.type;
  }
  return undefined;
}
