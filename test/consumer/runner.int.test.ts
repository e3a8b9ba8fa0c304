// The shared consumer runner against real Kafka and PostgreSQL: inbox dedup, dead-lettering, retries,
// a crash between the database commit and the offset commit, and the DLQ tool.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { Registry } from 'prom-client';
import { waitUntil } from '@qtshop/shared/platform';
import { createKafka, ensureTopics, loadInfra, type Knex } from '@qtshop/shared/infra';
import { DLQ_HEADERS, Unprocessable, dlqTopicOf } from '@qtshop/shared/messaging';
import { listDeadLetters, redriveDeadLetters } from '@qtshop/shared/tooling';
import { scratchDb, type ScratchDb } from '../support/scratch';
import { createEffectsTable, effectsRunner } from '../support/runner-fixture';
import { quiet } from '../support/services';

const root = resolve(import.meta.dirname, '../..');
const kafka = createKafka(loadInfra().kafka, 'test-runner');
const suffix = randomUUID().slice(0, 8);
const topic = `test.runner.${suffix}`;
let scratch: ScratchDb;
let db: Knex;
const failing = new Set<string>(); // product ids whose handler throws a permanent error
const transient = new Map<string, number>(); // product id -> transient failures left

const producer = kafka.producer({ idempotent: true });
const registry = new Registry();
let runner: ReturnType<typeof effectsRunner>;

function send(messages: Array<{ key?: string; value: string | null; headers: Record<string, string> }>, to = topic) {
  return producer.send({ topic: to, acks: -1, messages: messages.map((m) => ({ key: m.key ?? 'k', value: m.value, headers: m.headers })) });
}
const event = (productId: string, quantity: number, id = randomUUID()) => ({
  key: 'same-partition',
  value: JSON.stringify({ productId, quantity, version: 2 }),
  headers: { id, eventType: 'ProductQuantityUpdated' },
});
const effect = (productId: string) => db('effects').where({ product_id: productId }).first();
const waitEffect = (productId: string) => waitUntil(() => effect(productId), { timeoutMs: 20_000, what: `effect for ${productId}` });

beforeAll(async () => {
  scratch = await scratchDb('runner');
  db = scratch.db;
  await createEffectsTable(db);
  await ensureTopics(kafka, [topic, dlqTopicOf(topic)], 1);
  await producer.connect();
  runner = effectsRunner(kafka, db, quiet, {
    groupId: `test-runner-${suffix}`,
    topic,
    registry,
    // Dead-letter a failing handler right after its quick attempts (no background retries): what these
    // tests check; the retry budget has its own tests (liveness.int.test.ts).
    retryBudgetMs: 0,
    behaviour: (productId) => {
      if (failing.has(productId)) throw new Error(`handler bug for ${productId}`);
      if (productId === 'p-unprocessable') throw new Unprocessable('nothing to apply this to');
      const left = transient.get(productId) ?? 0;
      if (left > 0) {
        transient.set(productId, left - 1);
        throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:55432'), { code: 'ECONNREFUSED' });
      }
    },
  });
  await runner.start();
}, 60_000);

afterAll(async () => {
  await runner.stop();
  await producer.disconnect();
  await scratch.drop();
});

describe('consumer runner', () => {
  it('applies an event delivered twice (same id header) once', async () => {
    const id = randomUUID();
    await send([event('p-dup', 3, id), event('p-dup', 3, id)]);
    await waitEffect('p-dup');
    const marker = 'p-dup-after';
    await send([event(marker, 1)]);
    await waitEffect(marker); // same partition, later offset: the duplicate has been seen by now
    expect(await effect('p-dup')).toMatchObject({ quantity: 3, applied: 1 });
    expect(await db('processed_events').where({ event_id: id })).toHaveLength(1);
  });

  it("observes each applied event's latency from its createdAt header, by group and type", async () => {
    // The exposition text, as Prometheus scrapes it.
    const series = async (suffixName: 'count' | 'sum') => {
      const text = await registry.getSingleMetricAsString('consumer_event_latency_seconds');
      const line = text
        .split('\n')
        .find((l) => l.startsWith(`consumer_event_latency_seconds_${suffixName}{group="test-runner-${suffix}",type="ProductQuantityUpdated"}`));
      return Number(line?.split(' ').at(-1) ?? 0);
    };
    const count = async () => ({ n: await series('count') });
    const sum = () => series('sum');
    const before = await count();
    const sumBefore = await sum();
    // Written "2 s ago" by the outbox: at least 2 s of latency are observed for it.
    const twoSecondsAgo = new Date(Date.now() - 2000).toISOString().replace(/\.?0+Z$/, 'Z');
    await send([{ ...event('p-latency', 1), headers: { ...event('p-latency', 1).headers, createdAt: twoSecondsAgo } }]);
    await waitEffect('p-latency');
    await waitUntil(async () => (await count()).n === before.n + 1, { timeoutMs: 5000, what: 'the latency to be observed' });
    expect((await sum()) - sumBefore).toBeGreaterThanOrEqual(2);
    // No header (a record not from an outbox): applied, not observed.
    await send([event('p-no-created-at', 1)]);
    await waitEffect('p-no-created-at');
    expect((await count()).n).toBe(before.n + 1);
  });

  it('dead-letters poison messages with the reason, and the next message on the partition is processed', async () => {
    const ids = { json: randomUUID(), type: randomUUID(), schema: randomUUID() };
    await send([
      { key: 'same-partition', value: '{"productId": "x", ', headers: { id: ids.json, eventType: 'ProductQuantityUpdated' } },
      { key: 'same-partition', value: JSON.stringify({ productId: 'x', quantity: 1, version: 2 }), headers: { id: ids.type, eventType: 'ProductTeleported' } },
      {
        key: 'same-partition',
        value: JSON.stringify({ productId: 'x', quantity: -4, version: 2 }),
        headers: { id: ids.schema, eventType: 'ProductQuantityUpdated' },
      },
      { key: 'same-partition', value: JSON.stringify({ productId: 'x', quantity: 1, version: 2 }), headers: { eventType: 'ProductQuantityUpdated' } },
      event('p-after-poison', 5),
    ]);
    expect(await waitEffect('p-after-poison')).toMatchObject({ quantity: 5, applied: 1 });

    const dlq = await listDeadLetters(kafka, topic);
    const reasonOf = (id: string) => dlq.find((d) => d.id === id)?.reason;
    expect(reasonOf(ids.json)).toBe('invalid_json');
    expect(reasonOf(ids.type)).toBe('unknown_event_type');
    expect(reasonOf(ids.schema)).toBe('schema_violation');
    const noId = dlq.find((d) => d.reason === 'missing_id');
    expect(noId).toBeDefined();
    expect(noId!.original).toMatchObject({ topic, group: `test-runner-${suffix}` });
    // The original key, value and headers travel with the dead letter.
    const schema = dlq.find((d) => d.id === ids.schema)!;
    expect(schema.key).toBe('same-partition');
    expect(JSON.parse(schema.message.value!.toString())).toEqual({ productId: 'x', quantity: -4, version: 2 });
    expect(schema.error).toMatch(/quantity/);
    expect(await effect('x')).toBeUndefined();
  });

  it('applies consecutive events of a partition in one transaction, in offset order, each once', async () => {
    const sizes = async () => Number(/consumer_batch_events_count (\d+)/.exec(await registry.getSingleMetricAsString('consumer_batch_events'))?.[1] ?? 0);
    const before = await sizes();
    // One send: one record batch on one partition, fetched together.
    const events = [...[1, 2, 3, 4, 5].map((q) => event('p-batch-same', q)), ...[1, 2, 3].map((i) => event(`p-batch-${i}`, i))];
    await send(events);
    await waitEffect('p-batch-3');
    // The same product's five events, applied in order: the last quantity wins, each counted once.
    expect(await effect('p-batch-same')).toMatchObject({ quantity: 5, applied: 5 });
    expect(await sizes()).toBeGreaterThan(before);
    // The inbox's processed_at orders them as they were applied, though one transaction wrote them.
    const recorded = await db('processed_events')
      .whereIn(
        'event_id',
        events.map((e) => e.headers.id),
      )
      .orderBy('processed_at')
      .select<Array<{ event_id: string; us: string }>>('event_id', db.raw('(extract(epoch from processed_at) * 1000000)::bigint as us'));
    expect(recorded.map((r) => r.event_id)).toEqual(events.map((e) => e.headers.id));
    // Distinct times, to the microsecond: the order does not rest on ties.
    expect(new Set(recorded.map((r) => r.us)).size).toBe(events.length);
  });

  it('takes a batch one by one when one of its events fails: that one is dead-lettered alone, the others applied once, in order', async () => {
    failing.add('p-batch-bug');
    const fallbacks = async () =>
      Number(/consumer_batch_fallbacks_total (\d+)/.exec(await registry.getSingleMetricAsString('consumer_batch_fallbacks_total'))?.[1] ?? 0);
    const before = await fallbacks();
    const bug = randomUUID();
    await send([event('p-batch-around', 1), event('p-batch-around', 2), event('p-batch-bug', 9, bug), event('p-batch-around', 3), event('p-batch-last', 1)]);
    await waitEffect('p-batch-last');
    expect(await effect('p-batch-around')).toMatchObject({ quantity: 3, applied: 3 });
    expect(await effect('p-batch-bug')).toBeUndefined();
    const dead = await waitUntil(async () => (await listDeadLetters(kafka, topic)).find((d) => d.id === bug), { timeoutMs: 10_000, what: 'dead letter' });
    expect(dead).toMatchObject({ reason: 'handler_failed' });
    expect(await fallbacks()).toBeGreaterThan(before);
    failing.delete('p-batch-bug');
  });

  it('retries transient failures without skipping the message, applying it once', async () => {
    transient.set('p-flaky', 3);
    await send([event('p-flaky', 8)]);
    expect(await waitEffect('p-flaky')).toMatchObject({ quantity: 8, applied: 1 });
    expect(transient.get('p-flaky')).toBe(0);
    const metrics = await registry.getSingleMetricAsString('consumer_retries_total');
    expect(metrics).toMatch(/kind="transient"} [3-9]/);
  });

  it('dead-letters a message whose handler keeps failing, moves on, and a redrive after the fix applies it', async () => {
    failing.add('p-bug');
    const id = randomUUID();
    await send([event('p-bug', 2, id), event('p-after-bug', 4)]);
    await waitEffect('p-after-bug');
    const dead = await waitUntil(async () => (await listDeadLetters(kafka, topic)).find((d) => d.id === id), { timeoutMs: 10_000, what: 'dead letter' });
    expect(dead).toMatchObject({ reason: 'handler_failed', error: 'handler bug for p-bug' });
    expect(dead.message.headers?.[DLQ_HEADERS.attempts]?.toString()).toBe('3');
    expect(await effect('p-bug')).toBeUndefined();

    failing.delete('p-bug');
    // Redrive republishes everything dead-lettered from the topic: the poison messages go back to the
    // DLQ, the fixed one is applied.
    const n = await redriveDeadLetters(kafka, topic);
    expect(n).toBeGreaterThanOrEqual(5);
    expect(await waitEffect('p-bug')).toMatchObject({ quantity: 2, applied: 1 });
    expect(await redriveDeadLetters(kafka, topic)).toBeLessThan(n); // progress is kept: only new dead letters
  }, 60_000);

  it('dead-letters an event its handler declares unprocessable at once, without retries', async () => {
    const id = randomUUID();
    await send([event('p-unprocessable', 1, id), event('p-after-unprocessable', 1)]);
    await waitEffect('p-after-unprocessable');
    const dead = await waitUntil(async () => (await listDeadLetters(kafka, topic)).find((d) => d.id === id), { timeoutMs: 10_000, what: 'dead letter' });
    expect(dead).toMatchObject({ reason: 'unprocessable', error: 'nothing to apply this to' });
    expect(dead.message.headers?.[DLQ_HEADERS.attempts]?.toString()).toBe('1');
  });

  it('redelivers and does not re-apply an event whose consumer was killed between the database commit and the offset commit', async () => {
    const crashTopic = `test.runner.crash.${suffix}`;
    const group = `test-runner-crash-${suffix}`;
    await ensureTopics(kafka, [crashTopic, dlqTopicOf(crashTopic)], 1);
    const id = randomUUID();
    await send([event('p-crash', 6, id)], crashTopic);

    const child = spawn(process.execPath, ['--import', 'tsx', resolve(root, 'test/support/crash-consumer.ts'), scratch.name, crashTopic, group], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    const signal = await new Promise<NodeJS.Signals | null>((r) => child.on('exit', (_code, sig) => r(sig)));
    expect(signal).toBe('SIGKILL');
    expect(out).toContain('applied; killing myself');
    expect(await effect('p-crash')).toMatchObject({ applied: 1 });

    const registry2 = new Registry();
    const again = effectsRunner(kafka, db, quiet, { groupId: group, topic: crashTopic, registry: registry2 });
    await again.start();
    try {
      await waitUntil(async () => /outcome="duplicate"} 1/.test(await registry2.getSingleMetricAsString('consumer_events_total')), {
        timeoutMs: 30_000,
        what: 'the redelivered event to be recognised as a duplicate',
      });
    } finally {
      await again.stop();
    }
    expect(await effect('p-crash')).toMatchObject({ quantity: 6, applied: 1 });
  }, 90_000);

  it('on stop, lets the batch in flight finish and commit its offset before leaving: the next member of the group does not get it again', async () => {
    const stopTopic = `test.runner.stop.${suffix}`;
    const group = `test-runner-stop-${suffix}`;
    await ensureTopics(kafka, [stopTopic, dlqTopicOf(stopTopic)], 1);
    let entered = false;
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    const slow = effectsRunner(kafka, db, quiet, {
      groupId: group,
      topic: stopTopic,
      behaviour: async (productId) => {
        if (productId !== 'p-stop') return;
        entered = true;
        await released; // held inside its inbox transaction until the test lets it go
      },
    });
    await slow.start();
    let stopped = false;
    try {
      const id = randomUUID();
      const [sent] = await send([event('p-stop', 7, id)], stopTopic);
      const offset = Number(sent!.baseOffset);
      await waitUntil(async () => entered, { timeoutMs: 30_000, what: 'the handler to be running' });

      const stopping = slow.stop().then(() => (stopped = true));
      // While the handler holds the batch, stop() waits, and nothing of the batch has committed.
      await Promise.race([stopping, new Promise((r) => setTimeout(r, 1500))]);
      expect(stopped).toBe(false);
      expect(await db('processed_events').where({ event_id: id })).toHaveLength(0);

      release();
      await stopping;
      // The batch committed before stop() returned: its inbox row and effect, and the group's offset past it.
      expect(await db('processed_events').where({ event_id: id })).toHaveLength(1);
      expect(await effect('p-stop')).toMatchObject({ quantity: 7, applied: 1 });
      const admin = kafka.admin();
      await admin.connect();
      try {
        const [committed] = await admin.fetchOffsets({ groupId: group, topics: [stopTopic] });
        expect(Number(committed!.partitions.find((p) => p.partition === 0)!.offset)).toBeGreaterThan(offset);
      } finally {
        await admin.disconnect();
      }

      // A new member of the group starts after it: the event is neither applied nor even redelivered.
      const registry2 = new Registry();
      const next = effectsRunner(kafka, db, quiet, { groupId: group, topic: stopTopic, registry: registry2 });
      await next.start();
      try {
        await send([event('p-stop-after', 1)], stopTopic);
        await waitEffect('p-stop-after');
      } finally {
        await next.stop();
      }
      const outcomes = await registry2.getSingleMetricAsString('consumer_events_total');
      expect(outcomes).not.toMatch(/outcome="duplicate"/);
      expect(outcomes).toMatch(/outcome="applied"} 1$/m);
      expect(await effect('p-stop')).toMatchObject({ applied: 1 });
    } finally {
      release();
      if (!stopped) await slow.stop();
    }
  }, 90_000);

  it('lets the DLQ tool list what was dead-lettered and why', async () => {
    const res = await new Promise<{ code: number; out: string }>((r) => {
      const c = spawn(resolve(root, 'node_modules/.bin/tsx'), [resolve(root, 'scripts/dlq.ts'), 'list', topic], { cwd: root });
      let out = '';
      c.stdout.on('data', (d: Buffer) => (out += d.toString()));
      c.on('close', (code) => r({ code: code ?? -1, out }));
    });
    expect(res.code).toBe(0);
    const lines = res.out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { reason: string });
    expect(lines.map((l) => l.reason)).toEqual(
      expect.arrayContaining(['invalid_json', 'unknown_event_type', 'schema_violation', 'missing_id', 'handler_failed']),
    );
  }, 60_000);
});
