// Decoding a Kafka record into a typed event (id header, known eventType, JSON value, the type's zod
// schema), or DeadLetter saying why it cannot be one.
import type { KafkaMessage } from 'kafkajs';
import { EVENTS, isEventType } from '../../events/registry';
import { headerString } from '../../infra/kafka';
import { isUuid } from '../../platform/ids';
import type { DlqReason } from './dead-letter';
import type { ConsumedEvent } from './event';

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
