// The relay measures the consumers from Kafka: consumer_lag_messages grows while a group's consumer is
// stopped and falls back once it catches up; dlq_messages and dlq_pending_messages count what the consumer
// runner dead-letters, and a redrive clears the pending count.
import { randomUUID } from 'node:crypto';
import { Registry } from 'prom-client';
import { waitUntil } from '@qtshop/shared/platform';
import { createKafka, ensureTopics, loadInfra, type Knex } from '@qtshop/shared/infra';
import { dlqTopicOf } from '@qtshop/shared/messaging';
import { redriveDeadLetters } from '@qtshop/shared/tooling';
import { loadRelayConfig } from '../../services/relay/src/config';
import { createRelay, type Relay } from '../../services/relay/src/relay';
import { metric } from '../delivery/support';
import { createEffectsTable, effectsRunner } from '../support/runner-fixture';
import { scratchDb, type ScratchDb } from '../support/scratch';
import { quiet } from '../support/services';

const kafka = createKafka(loadInfra().kafka, 'test-lag-metrics');
const suffix = randomUUID().slice(0, 8);
// Under the names the relay may describe (the ACLs give it the qtshop. topics and the qtshop- groups).
const topic = `qtshop.lagtest.${suffix}`;
const group = `qtshop-test-lag-${suffix}`;
const producer = kafka.producer({ idempotent: true });
let scratch: ScratchDb;
let db: Knex;
let relay: Relay;

const send = (values: string[]) =>
  producer.send({
    topic,
    acks: -1,
    messages: values.map((value) => ({ key: 'k', value, headers: { id: randomUUID(), eventType: 'ProductQuantityUpdated' } })),
  });
const quantityUpdated = (productId: string) => JSON.stringify({ productId, quantity: 1, version: 2 });
const lag = () => metric(relay, 'consumer_lag_messages', { group, topic, partition: '0' });
const members = () => metric(relay, 'consumer_group_members', { group });
const waitMetric = (what: string, read: () => Promise<number>, expected: number) =>
  waitUntil(async () => (await read()) === expected, { timeoutMs: 20_000, everyMs: 50, what: `${what} to be ${expected}` });

async function consuming(registry = new Registry()) {
  const runner = effectsRunner(kafka, db, quiet, { groupId: group, topic, registry });
  await runner.start();
  return { runner, registry };
}

beforeAll(async () => {
  scratch = await scratchDb('lag');
  db = scratch.db;
  await createEffectsTable(db);
  await ensureTopics(kafka, [topic, dlqTopicOf(topic)], 1);
  await producer.connect();
  relay = createRelay(
    {
      ...loadRelayConfig(),
      RELAY_PORT: 0,
      RELAY_MODE: 'polling',
      OUTBOX_DATABASES: [],
      RELAY_LAG_GROUPS: [group],
      RELAY_DLQ_TOPICS: [topic],
      RELAY_SUPERVISE_INTERVAL_MS: 200,
    },
    { log: quiet },
  );
  await relay.start();
}, 60_000);

afterAll(async () => {
  await relay.stop();
  await producer.disconnect();
  await scratch.drop();
});

describe('consumer_lag_messages', () => {
  it("grows while the group's consumer is stopped and returns to 0 once it catches up", async () => {
    const { runner } = await consuming();
    const first = randomUUID();
    await send([quantityUpdated(first)]);
    await waitUntil(() => db('effects').where({ product_id: first }).first(), { timeoutMs: 20_000, what: 'the first event applied' });
    await waitMetric('consumer_group_members', members, 1);
    await waitMetric('consumer_lag_messages', lag, 0);

    await runner.stop();
    await waitMetric('consumer_group_members', members, 0);
    await send([quantityUpdated(randomUUID()), quantityUpdated(randomUUID())]);
    await waitMetric('consumer_lag_messages', lag, 2);
    await send([quantityUpdated(randomUUID())]);
    await waitMetric('consumer_lag_messages', lag, 3);

    const again = await consuming();
    await waitMetric('consumer_lag_messages', lag, 0);
    await again.runner.stop();

    const exposed = await (await fetch(`http://127.0.0.1:${relay.port}/metrics`)).text();
    expect(exposed).toContain(`consumer_lag_messages{group="${group}",topic="${topic}",partition="0",service="relay"} 0`);
    expect(exposed).toMatch(new RegExp(`^consumer_group_members\\{group="${group}",service="relay"\\} [01]$`, 'm'));
  }, 90_000);
});

describe('dlq_messages and dlq_pending_messages', () => {
  it('count a message the runner dead-letters, and the pending count clears after a redrive', async () => {
    const dlqMessages = () => metric(relay, 'dlq_messages', { topic });
    const dlqPending = () => metric(relay, 'dlq_pending_messages', { topic });
    await waitMetric('dlq_messages', dlqMessages, 0);
    const { runner, registry } = await consuming();
    await send(['{not json']);
    await waitMetric('dlq_messages', dlqMessages, 1);
    await waitMetric('dlq_pending_messages', dlqPending, 1);
    const deadLettered = (await registry.getSingleMetric('consumer_events_total')!.get()).values.find((v) => v.labels.outcome === 'dead_lettered');
    expect(deadLettered?.value).toBe(1);
    await runner.stop();

    // Redriven while nobody consumes (it would be dead-lettered again): retained, but no longer pending.
    expect(await redriveDeadLetters(kafka, topic)).toBe(1);
    await waitMetric('dlq_pending_messages', dlqPending, 0);
    expect(await dlqMessages()).toBe(1);
    await waitMetric('consumer_lag_messages', lag, 1);
  }, 90_000);
});
