// The published event contracts (docs/concepts.md "Contracts"), generated from the event registry (events/registry.ts) and
// the record headers (outbox/record.ts): one JSON Schema (draft 2020-12) per event type and one AsyncAPI
// 3.0 document for the topics. npm run contracts writes them under contracts/events/.
import { z } from 'zod';
import { EVENTS, topicOf, TOPICS, type EventType } from '../events/registry';
import { RecordHeaders } from '../outbox/record';

export type JsonSchema = { [key: string]: unknown };

export const EVENT_TYPES = Object.keys(EVENTS) as EventType[];

/**
 * A payload schema as a consumer reads it (io: 'input'): what a producer may send. Fields the schema does
 * not know are allowed (the runner strips them), so the document has no additionalProperties: false.
 */
function payloadSchema(type: EventType, target: 'draft-2020-12' | 'draft-7'): JsonSchema {
  const { $schema, ...rest } = z.toJSONSchema(EVENTS[type].schema, { io: 'input', target }) as JsonSchema;
  return target === 'draft-2020-12' ? { $schema, ...rest } : rest;
}

/** The JSON Schema of one event type's payload (contracts/events/<type>.json). */
export function eventSchema(type: EventType): JsonSchema {
  const { $schema, ...schema } = payloadSchema(type, 'draft-2020-12');
  const def = EVENTS[type];
  return {
    $schema,
    title: type,
    description: `${def.summary} Topic ${topicOf(def.aggregateType)}, key: ${def.key}; the record's eventType header is ${type}.`,
    ...schema,
  };
}

const TOPIC_DOCS: Record<string, string> = {
  'qtshop.product': 'Products of the catalog, keyed by product id.',
  'qtshop.inventory': 'Stock per product (keyed by product id) and stock decisions per order (keyed by order id).',
  'qtshop.order': "Each order's event stream, keyed by order id.",
};

const channelId = (topic: string) => topic.replace(/^qtshop\./, '');

/** The AsyncAPI 3.0 document of every topic, its records' key, headers and payloads (contracts/events/asyncapi.json). */
export function asyncApiDocument(version: string): JsonSchema {
  const { $schema: _drop, ...headers } = z.toJSONSchema(RecordHeaders, { io: 'input', target: 'draft-7' }) as JsonSchema;
  const messages = Object.fromEntries(
    EVENT_TYPES.map((type) => {
      const def = EVENTS[type];
      const headerProps = headers.properties as JsonSchema;
      return [
        type,
        {
          name: type,
          title: type,
          summary: def.summary,
          contentType: 'application/json',
          headers: { ...headers, properties: { ...headerProps, eventType: { ...(headerProps.eventType as JsonSchema), const: type } } },
          payload: { $ref: `#/components/schemas/${type}` },
          bindings: { kafka: { bindingVersion: '0.5.0', key: { type: 'string', description: `The aggregate id: the payload's ${def.key}` } } },
        },
      ];
    }),
  );
  const typesOn = (topic: string) => EVENT_TYPES.filter((t) => topicOf(EVENTS[t].aggregateType) === topic);
  const channels = Object.fromEntries(
    TOPICS.map((topic) => [
      channelId(topic),
      {
        address: topic,
        description:
          `${TOPIC_DOCS[topic] ?? ''} Written by the outbox relays (Debezium or polling); the value is the bare JSON payload. Records a consumer cannot use go to ${topic}.dlq.`.trim(),
        messages: Object.fromEntries(typesOn(topic).map((t) => [t, { $ref: `#/components/messages/${t}` }])),
      },
    ]),
  );
  const operations = Object.fromEntries(
    TOPICS.map((topic) => [
      `consume${channelId(topic).replace(/^./, (c) => c.toUpperCase())}Events`,
      {
        action: 'receive',
        summary: `Read the events on ${topic}.`,
        channel: { $ref: `#/channels/${channelId(topic)}` },
        messages: typesOn(topic).map((t) => ({ $ref: `#/channels/${channelId(topic)}/messages/${t}` })),
      },
    ]),
  );
  return {
    asyncapi: '3.0.0',
    info: {
      title: 'QT-Shop events',
      version,
      description:
        "The Kafka topics of QT-Shop. Every record comes from an outbox row: key = aggregate id, headers id (the dedup key), eventType, traceparent and createdAt, value = the JSON payload. Delivery is at least once: deduplicate by the id header. Every payload carries `version`, its aggregate's version after the change; apply an event only when it is newer than the state you hold.",
    },
    defaultContentType: 'application/json',
    channels,
    operations,
    components: { messages, schemas: Object.fromEntries(EVENT_TYPES.map((t) => [t, payloadSchema(t, 'draft-7')])) },
  };
}
