// For the version tests of each consumer (docs/concepts.md "Events and versions"): the service's own handlers,
// inbox and database behind the real consumer runner, fed the records an outbox relay would produce.
//
// The records go to private copies of the service's topics (`<topic>.<suffix>`, deleted on stop), so that
// these synthetic events, their dead letters and the redrives of those never reach the shared qtshop.*
// topics that other suites and a running shop consume (a redrive republishes everything pending in a
// dead-letter topic, whoever put it there). `failing` makes the handler throw for chosen event ids, so
// that the runner really dead-letters them (a bug at the time); removing the id is the fix, after which
// redrive() runs the DLQ tool's redrive.
import { randomUUID } from 'node:crypto';
import { Registry } from 'prom-client';
import type { RecordMetadata } from 'kafkajs';
import { waitUntil } from '@qtshop/shared/platform';
import type { Knex, Kafka } from '@qtshop/shared/infra';
import { outboxRecord } from '@qtshop/shared/outbox';
import { EVENTS, type EventPayload, type EventType } from '@qtshop/shared/events';
import { createConsumerRunner, dlqTopicOf, type Handlers, type Inbox } from '@qtshop/shared/messaging';
import { listDeadLetters, redriveDeadLetters } from '@qtshop/shared/tooling';
import { quiet } from './services';

export interface ConsumerForTest {
  /** Event ids whose handler throws (a permanent failure: dead-lettered after the runner's attempts). */
  failing: Set<string>;
  /** Produces the record the outbox row of this event would become (fresh event id unless given), on the private topic. */
  publish<T extends EventType>(type: T, payload: EventPayload<T>, id?: string): Promise<{ id: string; meta: RecordMetadata }>;
  /** Waits until the event's dead letter is on its private dead-letter topic. */
  waitDeadLettered(eventId: string): Promise<void>;
  /** npm run dlq -- redrive, on every private topic. */
  redrive(): Promise<number>;
  /** consumer_events_total for one event type and outcome. */
  count(type: EventType, outcome: 'applied' | 'duplicate' | 'stale' | 'dead_lettered'): Promise<number>;
  stop(): Promise<void>;
}

const aggregateIdOf = (payload: object): string => (payload as { productId?: string; orderId?: string }).productId ?? (payload as { orderId: string }).orderId;

export async function consumerForTest<Tx>(kafka: Kafka, opts: { topics: string[]; handlers: Handlers<Tx>; inbox: Inbox<Tx> }): Promise<ConsumerForTest> {
  const suffix = `versions-test-${randomUUID().slice(0, 8)}`;
  const privateOf = (topic: string) => `${topic}.${suffix}`;
  const topics = opts.topics.map(privateOf);
  const groupId = `test-${suffix}`;
  const failing = new Set<string>();
  const registry = new Registry();
  const handlers: Record<string, unknown> = {};
  for (const [type, handler] of Object.entries(opts.handlers) as Array<[EventType, (e: { id: string }, tx: Tx) => Promise<unknown>]>) {
    handlers[type] = async (event: { id: string }, tx: Tx) => {
      if (failing.has(event.id)) throw new Error(`simulated handler bug for event ${event.id}`);
      return handler(event, tx);
    };
  }
  const runner = createConsumerRunner<Tx>({
    kafka,
    groupId,
    topics,
    handlers: handlers as Handlers<Tx>,
    inbox: opts.inbox,
    log: quiet,
    registry,
    maxAttempts: 3,
    backoff: { initialMs: 20, maxMs: 100 },
    retryBudgetMs: 0, // dead-letter right after the quick attempts: these tests redrive what was dead-lettered
  });
  const producer = kafka.producer({ idempotent: true });
  await producer.connect();
  await runner.start();
  return {
    failing,
    async publish(type, payload, id = randomUUID()) {
      const rec = outboxRecord({ id, aggregatetype: EVENTS[type].aggregateType, aggregateid: aggregateIdOf(payload), type, payload, traceparent: null });
      if (!opts.topics.includes(rec.topic)) throw new Error(`${type} goes to ${rec.topic}, which this consumer does not read`);
      const [meta] = await producer.send({ topic: privateOf(rec.topic), acks: -1, messages: [rec.message] });
      return { id, meta: meta! };
    },
    async waitDeadLettered(eventId) {
      await waitUntil(
        async () => {
          for (const t of topics) if ((await listDeadLetters(kafka, t)).some((d) => d.id === eventId)) return true;
          return false;
        },
        { timeoutMs: 30_000, what: `event ${eventId} dead-lettered` },
      );
    },
    async redrive() {
      let n = 0;
      for (const t of topics) n += await redriveDeadLetters(kafka, t);
      return n;
    },
    async count(type, outcome) {
      const metric = await registry.getSingleMetric('consumer_events_total')!.get();
      return metric.values.find((v) => v.labels.type === type && v.labels.outcome === outcome)?.value ?? 0;
    },
    async stop() {
      await runner.stop();
      await producer.disconnect();
      const admin = kafka.admin();
      await admin.connect();
      try {
        await admin.deleteGroups([groupId, ...topics.map((t) => `qtshop-dlq-redrive.${t}`)]).catch(() => undefined);
        await admin.deleteTopics({ topics: [...topics, ...topics.map(dlqTopicOf)] }).catch(() => undefined);
      } finally {
        await admin.disconnect();
      }
    },
  };
}

/** Waits until `probe` reaches `atLeast`: the counter moved. */
export function waitCount(probe: () => Promise<number>, atLeast: number, what: string) {
  return waitUntil(async () => (await probe()) >= atLeast, { timeoutMs: 30_000, what });
}

/** Waits until a PostgreSQL consumer's inbox (processed_events) holds `eventId`: applied, or skipped as stale. */
export function waitPgProcessed(db: Knex, eventId: string, service: string) {
  return waitUntil(() => db('processed_events').where({ event_id: eventId }).first(), { timeoutMs: 30_000, what: `event ${eventId} processed by ${service}` });
}
