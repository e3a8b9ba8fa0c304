// Dead letters: the <topic>.dlq a message that cannot be applied goes to, the headers that say why (read
// by npm run dlq), and the sending of one, which parks its partition while Kafka refuses it.
import type { IHeaders, Kafka, KafkaMessage, Producer } from 'kafkajs';
import { headerString } from '../../infra/kafka';
import { Park } from './parking';
import { errorText, type ConsumerTelemetry } from './telemetry';

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

/** Log fields of a message: its event id and type, from the headers (the message may not be a valid event). */
const fieldsOf = (message: KafkaMessage) => ({ eventId: headerString(message.headers, 'id'), eventType: headerString(message.headers, 'eventType') });

/** The runner's dead letters, sent by its own producer (connected and disconnected with the runner). */
export class DeadLetters {
  readonly producer: Producer;

  constructor(
    kafka: Kafka,
    private readonly groupId: string,
    private readonly telemetry: ConsumerTelemetry,
    /** True once the runner is stopping: a dead letter that fails then is not parked. */
    private readonly stopping: () => boolean,
  ) {
    // Retries are bounded so that a refused dead letter fails its attempt in seconds; the parking lot retries it.
    this.producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, retry: { retries: 3 } });
  }

  headers(topic: string, partition: number, message: KafkaMessage, reason: DlqReason, error: string, attempts: number): IHeaders {
    return {
      ...(message.headers ?? {}),
      [DLQ_HEADERS.reason]: reason,
      [DLQ_HEADERS.error]: error.slice(0, 2000),
      [DLQ_HEADERS.topic]: topic,
      [DLQ_HEADERS.partition]: String(partition),
      [DLQ_HEADERS.offset]: message.offset,
      [DLQ_HEADERS.group]: this.groupId,
      [DLQ_HEADERS.attempts]: String(attempts),
      [DLQ_HEADERS.failedAt]: new Date().toISOString(),
    };
  }

  /** One send of the message to <topic>.dlq, with the headers that say why; throws when Kafka refuses it. */
  send(topic: string, partition: number, message: KafkaMessage, reason: DlqReason, error: string, attempts: number) {
    return this.producer.send({
      topic: dlqTopicOf(topic),
      acks: -1,
      messages: [{ key: message.key, value: message.value, headers: this.headers(topic, partition, message, reason, error, attempts) }],
    });
  }

  /** Counts a refused dead letter and says why its partition waits. */
  refused(topic: string, reason: DlqReason, err: unknown): string {
    this.telemetry.deadLetterRefused(topic);
    return `its dead letter to ${dlqTopicOf(topic)} (${reason}) is refused: ${errorText(err)}; retrying until Kafka takes it`;
  }

  /**
   * Dead-letters a message; when Kafka refuses (or the send fails), throws Park so that its partition waits
   * while the same dead letter is retried in the background: the message is never dropped.
   */
  async deadLetter(topic: string, partition: number, message: KafkaMessage, reason: DlqReason, error: string, attempts: number): Promise<void> {
    const send = () => this.send(topic, partition, message, reason, error, attempts);
    const done = () => this.telemetry.outcome(headerString(message.headers, 'eventType') ?? 'none', 'dead_lettered');
    const refused = (err: unknown) => this.refused(topic, reason, err);
    try {
      await send();
      done();
    } catch (err) {
      if (this.stopping()) throw err;
      throw new Park(topic, partition, message.offset, refused(err), { attempt: async () => (await send(), done()), why: refused }, fieldsOf(message));
    }
  }
}
