// Nothing stops a consumer silently (services/shared/src/messaging/consumer/runner.ts), against real Kafka and PostgreSQL:
// - a dead letter Kafka refuses (its DLQ's max.message.bytes lowered, as an operator might) parks its
//   partition, other partitions and topics flow meanwhile, problems() (what /ready says) names it, and the
//   partition resumes by itself once the DLQ accepts, with one dead letter;
// - a handler failing for a few seconds (a table missing during a deploy) is retried past its quick
//   attempts within the retry budget and applied once, in order, with no dead letter; past the budget it
//   is dead-lettered;
// - a consumer kafkajs crashed for good is restarted by the runner; restarts that keep failing give up.
import { randomUUID } from 'node:crypto';
import { ConfigResourceTypes, KafkaJSNonRetriableError } from 'kafkajs';
import { Registry } from 'prom-client';
import { waitUntil } from '@qtshop/shared/platform';
import { createKafka, ensureTopics, loadInfra, type Knex } from '@qtshop/shared/infra';
import { dlqTopicOf } from '@qtshop/shared/messaging';
import { listDeadLetters } from '@qtshop/shared/tooling';
import { createEffectsTable, effectsRunner } from '../support/runner-fixture';
import { scratchDb, type ScratchDb } from '../support/scratch';
import { quiet } from '../support/services';

const kafka = createKafka(loadInfra().kafka, 'test-liveness');
const suffix = randomUUID().slice(0, 8);
const producer = kafka.producer({ idempotent: true });
const admin = kafka.admin();
let scratch: ScratchDb;
let db: Knex;

const event = (productId: string, quantity = 1, id = randomUUID()) => ({
  value: JSON.stringify({ productId, quantity, version: 2 }),
  headers: { id, eventType: 'ProductQuantityUpdated' },
});
const send = (topic: string, partition: number, ...messages: Array<{ value: string; headers: Record<string, string> }>) =>
  producer.send({ topic, acks: -1, messages: messages.map((m) => ({ ...m, key: `k${partition}`, partition })) });
const effect = (productId: string) => db('effects').where({ product_id: productId }).first();
const waitEffect = (productId: string, timeoutMs = 20_000) => waitUntil(() => effect(productId), { timeoutMs, what: `effect for ${productId}` });
const setMaxMessageBytes = (topic: string, bytes: number) =>
  admin.alterConfigs({
    validateOnly: false,
    resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configEntries: [{ name: 'max.message.bytes', value: String(bytes) }] }],
  });
const metric = async (registry: Registry, name: string, labels = '') =>
  Number(new RegExp(`^${name}\\{[^}]*${labels}[^}]*\\} (\\S+)$`, 'm').exec(await registry.metrics())?.[1] ?? NaN);

beforeAll(async () => {
  scratch = await scratchDb('liveness');
  db = scratch.db;
  await createEffectsTable(db);
  await producer.connect();
  await admin.connect();
}, 60_000);
afterAll(async () => {
  await admin.disconnect();
  await producer.disconnect();
  await scratch.drop();
});

describe('a consumer whose dead letters Kafka refuses', () => {
  const a = `test.liveness.dlq.${suffix}`;
  const b = `test.liveness.other.${suffix}`;

  it('waits on that partition without dropping the message, lets other partitions and topics flow, and resumes by itself once the DLQ accepts', async () => {
    await ensureTopics(kafka, [a, b, dlqTopicOf(a), dlqTopicOf(b)], 2);
    await setMaxMessageBytes(dlqTopicOf(a), 64);
    const registry = new Registry();
    const runner = effectsRunner(kafka, db, quiet, { groupId: `test-liveness-dlq-${suffix}`, topic: a, topics: [a, b], registry, parkedBackoffMaxMs: 500 });
    await runner.start();
    try {
      const poison = randomUUID();
      await send(a, 0, { value: '{"not json', headers: { id: poison, eventType: 'ProductQuantityUpdated' } }, event('p-behind-poison'));
      await send(a, 1, event('p-other-partition'));
      await send(b, 0, event('p-other-topic'));
      await waitEffect('p-other-partition');
      await waitEffect('p-other-topic');
      const waits = await waitUntil(async () => runner.problems().find((p) => p.includes(`${a}[0] waits`)), {
        timeoutMs: 10_000,
        what: 'the parked partition in problems()',
      });
      expect(waits).toMatch(/dead letter to .*\.dlq \(invalid_json\) is refused: .*MESSAGE_TOO_LARGE/);
      expect(await metric(registry, 'consumer_partitions_waiting')).toBe(1);
      expect(await effect('p-behind-poison')).toBeUndefined(); // per-partition order: nothing behind it goes first

      await setMaxMessageBytes(dlqTopicOf(a), 1_048_588);
      await waitEffect('p-behind-poison');
      await waitUntil(async () => runner.problems().length === 0, { timeoutMs: 10_000, what: 'problems() to clear' });
      const dead = (await listDeadLetters(kafka, a)).filter((d) => d.id === poison);
      expect(dead).toHaveLength(1);
      expect(dead[0]).toMatchObject({ reason: 'invalid_json' });
      expect(await metric(registry, 'consumer_partitions_waiting')).toBe(0);
      expect(await metric(registry, 'consumer_dead_letter_failures_total', `topic="${a}"`)).toBeGreaterThan(0);
    } finally {
      await runner.stop();
    }
  }, 90_000);
});

describe('a consumer whose handler fails for a while', () => {
  const topic = `test.liveness.saga.${suffix}`;
  const failingUntil = new Map<string, number>();
  const registry = new Registry();
  let runner: ReturnType<typeof effectsRunner>;
  beforeAll(async () => {
    await ensureTopics(kafka, [topic, dlqTopicOf(topic)], 1);
    runner = effectsRunner(kafka, db, quiet, {
      groupId: `test-liveness-saga-${suffix}`,
      topic,
      registry,
      retryBudgetMs: 8000,
      parkedBackoffMaxMs: 500,
      behaviour: (productId) => {
        // What a deploy whose code runs before its migration looks like: not transient, not the event's fault.
        if (Date.now() < (failingUntil.get(productId) ?? 0)) throw Object.assign(new Error('relation "stock_decisions" does not exist'), { code: '42P01' });
      },
    });
    await runner.start();
  }, 60_000);
  afterAll(() => runner.stop());

  it('retries it past its quick attempts with the partition waiting, then applies it once and in order, without a dead letter', async () => {
    const id = randomUUID();
    failingUntil.set('p-migrating', Date.now() + 4000);
    await send(topic, 0, event('p-migrating', 3, id), event('p-after-migrating'));
    const waits = await waitUntil(async () => runner.problems().find((p) => p.includes(`${topic}[0] waits`)), {
      timeoutMs: 10_000,
      what: 'the parked partition',
    });
    expect(waits).toMatch(/handler keeps failing/);
    expect(await effect('p-after-migrating')).toBeUndefined();
    expect(await waitEffect('p-migrating')).toMatchObject({ quantity: 3, applied: 1 });
    await waitEffect('p-after-migrating');
    await waitUntil(async () => runner.problems().length === 0, { timeoutMs: 10_000, what: 'problems() to clear' });
    expect((await listDeadLetters(kafka, topic)).filter((d) => d.id === id)).toHaveLength(0);
    expect(await db('processed_events').where({ event_id: id })).toHaveLength(1);
  }, 60_000);

  it('dead-letters it once the retry budget from its first failure is spent, and moves on', async () => {
    const id = randomUUID();
    failingUntil.set('p-bug', Date.now() + 3_600_000);
    const sent = Date.now();
    await send(topic, 0, event('p-bug', 1, id), event('p-after-bug'));
    await waitEffect('p-after-bug', 30_000);
    expect(Date.now() - sent).toBeGreaterThanOrEqual(8000);
    const dead = await waitUntil(async () => (await listDeadLetters(kafka, topic)).filter((d) => d.id === id), { timeoutMs: 10_000, what: 'the dead letter' });
    expect(dead).toHaveLength(1);
    expect(dead[0]).toMatchObject({ reason: 'handler_failed' });
    expect(await effect('p-bug')).toBeUndefined();
  }, 60_000);
});

describe('a consumer kafkajs crashed for good', () => {
  const topic = `test.liveness.crash.${suffix}`;
  beforeAll(() => ensureTopics(kafka, [topic, dlqTopicOf(topic)], 1), 30_000);

  it('is restarted by the runner, not-consuming meanwhile, and consumes again', async () => {
    const registry = new Registry();
    let crashes = 1;
    const runner = effectsRunner(kafka, db, quiet, {
      groupId: `test-liveness-crash-${suffix}`,
      topic,
      registry,
      restartBackoffMs: 500,
      // An error out of a batch (onApplied runs after a batch's commit) that kafkajs does not restart from,
      // as a refused dead letter used to be.
      onApplied: () => {
        if (crashes-- > 0) throw new KafkaJSNonRetriableError('the broker said no');
      },
    });
    const problems: string[] = [];
    await runner.start();
    try {
      await send(topic, 0, event('p-crash'), event('p-crash-2')); // one batch of two
      await waitUntil(async () => (problems.push(...runner.problems()), (await metric(registry, 'consumer_restarts_total', 'reason="crash"')) === 1), {
        timeoutMs: 20_000,
        everyMs: 20,
        what: 'the runner to restart its consumer',
      });
      await send(topic, 0, event('p-after-crash'));
      await waitEffect('p-after-crash');
      await waitUntil(async () => runner.problems().length === 0, { timeoutMs: 10_000, what: 'consuming again' });
      expect(problems.some((p) => /not consuming \((crashed|restarting)/.test(p))).toBe(true);
      expect(await effect('p-crash')).toMatchObject({ applied: 1 });
      expect(await metric(registry, 'consumer_running')).toBe(1);
    } finally {
      await runner.stop();
    }
  }, 60_000);

  it('gives up after restarts in a row that do not get it consuming, so that the process is started afresh', async () => {
    let gaveUp: Error | undefined;
    const runner = effectsRunner(kafka, db, quiet, {
      groupId: `test-liveness-giveup-${suffix}`,
      topic: `${topic}.giveup`,
      // An inbox that applies every delivery, so that each restart meets the crash again.
      inbox: { process: async () => 'applied', processBatch: async (items) => items.map(() => 'applied' as const) },
      restartBackoffMs: 100,
      maxRestarts: 2,
      onApplied: () => {
        throw new KafkaJSNonRetriableError('every new event crashes it');
      },
      onGiveUp: (err) => (gaveUp = err),
    });
    await ensureTopics(kafka, [`${topic}.giveup`, dlqTopicOf(`${topic}.giveup`)], 1);
    await runner.start();
    try {
      await send(`${topic}.giveup`, 0, event('g1'), event('g2'));
      await waitUntil(async () => gaveUp, { timeoutMs: 30_000, what: 'the runner to give up' });
      expect(gaveUp!.message).toMatch(/did not consume again after 2 restarts/);
      expect(runner.problems().join()).toMatch(/gave up after 2 restarts/);
    } finally {
      await runner.stop();
    }
  }, 60_000);
});
