// A consumer waiting out a database outage keeps its group membership: the runner heartbeats during each
// attempt and each backoff, so a wait longer than the session timeout does not get the member removed
// (which would reassign its partitions and have a second consumer retry the same message meanwhile).
import { randomUUID } from 'node:crypto';
import { Registry } from 'prom-client';
import { waitUntil } from '@qtshop/shared/platform';
import { createKafka, ensureTopics, loadInfra, type Knex } from '@qtshop/shared/infra';
import { dlqTopicOf } from '@qtshop/shared/messaging';
import { createEffectsTable, effectsRunner } from '../support/runner-fixture';
import { scratchDb, type ScratchDb } from '../support/scratch';
import { quiet } from '../support/services';

const kafka = createKafka(loadInfra().kafka, 'test-runner-outage');
const suffix = randomUUID().slice(0, 8);
const topic = `test.runner.outage.${suffix}`;
const producer = kafka.producer({ idempotent: true });
let scratch: ScratchDb;
let db: Knex;

beforeAll(async () => {
  scratch = await scratchDb('outage');
  db = scratch.db;
  await createEffectsTable(db);
  await ensureTopics(kafka, [topic, dlqTopicOf(topic)], 1);
  await producer.connect();
}, 60_000);
afterAll(async () => {
  await producer.disconnect();
  await scratch.drop();
});

describe('consumer runner during an outage', () => {
  it('keeps its membership while it waits out a read-only database (25006) for longer than the session timeout, then applies the event once', async () => {
    let outageUntil = 0;
    const registry = new Registry();
    const runner = effectsRunner(kafka, db, quiet, {
      groupId: `test-runner-outage-${suffix}`,
      topic,
      registry,
      sessionTimeoutMs: 6000, // the broker's minimum; heartbeats every 2 s
      backoff: { initialMs: 7000, maxMs: 7000 }, // each wait is longer than the session timeout
      behaviour: () => {
        if (Date.now() < outageUntil) throw Object.assign(new Error('cannot execute UPDATE in a read-only transaction'), { code: '25006' });
      },
    });
    let joins = 0;
    runner.consumer.on(runner.consumer.events.GROUP_JOIN, () => (joins += 1));
    await runner.start();
    try {
      await waitUntil(async () => joins === 1, { timeoutMs: 30_000, what: 'the runner to join its group' });
      outageUntil = Date.now() + 9000;
      await producer.send({
        topic,
        acks: -1,
        messages: [
          {
            key: 'k',
            value: JSON.stringify({ productId: 'p-outage', quantity: 4, version: 2 }),
            headers: { id: randomUUID(), eventType: 'ProductQuantityUpdated' },
          },
        ],
      });
      const effect = await waitUntil(() => db('effects').where({ product_id: 'p-outage' }).first(), {
        timeoutMs: 45_000,
        what: 'the event applied after the outage',
      });
      expect(effect).toMatchObject({ quantity: 4, applied: 1 });
      expect(await registry.getSingleMetricAsString('consumer_retries_total')).toMatch(/kind="transient"} [2-9]/);
      expect(joins).toBe(1); // never removed from the group, so never rejoined
    } finally {
      await runner.stop();
    }
  }, 90_000);
});
