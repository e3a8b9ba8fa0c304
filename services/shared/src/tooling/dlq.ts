// Reading and redriving dead-letter topics (<topic>.dlq), for the DLQ tool and tests.
import { randomUUID } from 'node:crypto';
import type { IHeaders, Kafka, KafkaMessage } from 'kafkajs';
import { DLQ_HEADERS, dlqTopicOf, redriveGroupOf } from '../messaging/consumer/dead-letter';
import { headerString } from '../infra/kafka';
import { readToEnd } from './read-to-end';

export interface DeadLettered {
  partition: number;
  offset: string;
  key: string | null;
  id?: string;
  eventType?: string;
  reason?: string;
  error?: string;
  original: { topic?: string; partition?: string; offset?: string; group?: string };
  failedAt?: string;
  message: KafkaMessage;
}

export async function listDeadLetters(kafka: Kafka, topic: string): Promise<DeadLettered[]> {
  const out: DeadLettered[] = [];
  await readToEnd(kafka, dlqTopicOf(topic), `qtshop-dlq-list-${randomUUID()}`, 'start', async (partition, m) => {
    const h = (n: string) => headerString(m.headers, n);
    out.push({
      partition,
      offset: m.offset,
      key: m.key?.toString('utf8') ?? null,
      ...(h('id') ? { id: h('id') } : {}),
      ...(h('eventType') ? { eventType: h('eventType') } : {}),
      ...(h(DLQ_HEADERS.reason) ? { reason: h(DLQ_HEADERS.reason) } : {}),
      ...(h(DLQ_HEADERS.error) ? { error: h(DLQ_HEADERS.error) } : {}),
      original: { topic: h(DLQ_HEADERS.topic), partition: h(DLQ_HEADERS.partition), offset: h(DLQ_HEADERS.offset), group: h(DLQ_HEADERS.group) },
      ...(h(DLQ_HEADERS.failedAt) ? { failedAt: h(DLQ_HEADERS.failedAt) } : {}),
      message: m,
    });
  });
  return out;
}

/**
 * Republishes dead-lettered messages to the original topic with their key, value and original headers
 * (the dlq.* headers removed). Progress is kept in the consumer group redriveGroupOf(topic), so a
 * second redrive does not republish what the first already did. Returns how many were republished.
 */
export async function redriveDeadLetters(kafka: Kafka, topic: string): Promise<number> {
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  let n = 0;
  try {
    await readToEnd(kafka, dlqTopicOf(topic), redriveGroupOf(topic), 'committed', async (_partition, m) => {
      const headers: IHeaders = {};
      for (const [k, v] of Object.entries(m.headers ?? {})) if (!k.startsWith('dlq.') && v !== undefined) headers[k] = v;
      await producer.send({ topic, acks: -1, messages: [{ key: m.key, value: m.value, headers }] });
      n += 1;
    });
  } finally {
    await producer.disconnect();
  }
  return n;
}
