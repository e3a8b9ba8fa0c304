// The confirmer takes a row as delivered only from the row's own record: on its topic, keyed by its
// aggregate id. A record carrying the row's id on another topic or with another key (what a connector
// whose router drifted writes) is misrouted: counted, logged, /ready red, and the repair publishes the row
// to its own topic, after which /ready recovers by itself, also on a relay started afresh meanwhile.
// A scratch outbox with topics of the test's own and no connector: the records are written by hand.
import type { Kafka } from 'kafkajs';
import { waitUntil } from '@qtshop/shared/platform';
import { createKafka, type Knex } from '@qtshop/shared/infra';
import type { Relay } from '../../services/relay/src/relay';
import type { RelayConfig } from '../../services/relay/src/config';
import { TopicReader, type Received } from '../support/kafka';
import { insertRows, rows, scratchDatabase, suffix, type Scratch, type TestRow } from '../relay/scratch';
import { debeziumRelay, infra, keptLog, metric, readyCheck } from './support';

const kafka: Kafka = createKafka(infra.kafka, 'test-misrouted');
// Long enough to watch the misrouted rows wait (through a relay restart) before the repair publishes them.
const REPAIR_AFTER_MS = 20_000;

let scratch: Scratch;
const stops: Array<() => Promise<void>> = [];
beforeAll(async () => {
  scratch = await scratchDatabase();
}, 30_000);
afterAll(async () => {
  for (const stop of stops.reverse()) await stop();
  await scratch.drop();
});

/** The record a connector would write for `r`, on whatever topic it is sent to, with `key`. */
const recordOf = (r: TestRow, key = r.aggregateid) => ({ key, value: r.payload, headers: { id: r.id, eventType: r.type } });

async function produce(topic: string, messages: Array<ReturnType<typeof recordOf>>): Promise<void> {
  const producer = kafka.producer();
  await producer.connect();
  try {
    await producer.send({ topic, messages });
  } finally {
    await producer.disconnect();
  }
}

const rowOf = async (db: Knex, id: string) =>
  (await db('outbox').where({ id }).first('sent_at', 'seen_at', 'misrouted_at')) as { sent_at: Date | null; seen_at: Date | null; misrouted_at: Date | null };

describe('debezium mode, a record of an outbox row on the wrong topic or with the wrong key', () => {
  it('confirms nothing: it is counted and logged, /ready stays red, across a relay restart, until the repair has delivered the row to its own topic', async () => {
    const { name: database, db } = scratch;
    const aggregatetype = `misrouted${suffix()}`;
    const own = `qtshop.${aggregatetype}`;
    const elsewhere = `qtshop.elsewhere${suffix()}`;
    const overrides: Partial<RelayConfig> = {
      OUTBOX_REPAIR_AFTER_MS: REPAIR_AFTER_MS,
      RELAY_CONFIRM_GROUP: `qtshop-relay-confirm-test-${suffix()}`,
      RELAY_CONFIRM_TOPICS: [own, elsewhere],
      RELAY_CONFIRM_MIN_BYTES: 1,
      RELAY_CONFIRM_MAX_WAIT_MS: 100,
    };
    const start = async (log: ReturnType<typeof keptLog>): Promise<Relay> => {
      const r = await debeziumRelay([database], overrides, { connectors: new Map(), log });
      stops.push(() => r.stop());
      return r;
    };
    const lines: Array<Record<string, unknown>> = [];
    const relay = await start(keptLog(lines));
    const reader = await TopicReader.start(kafka, [own]);
    stops.push(() => reader.stop());

    const [onOtherTopic, withOtherKey, delivered] = rows(aggregatetype, 3, ['a-1', 'a-2', 'a-3']) as [TestRow, TestRow, TestRow];
    await insertRows(db, [onOtherTopic, withOtherKey, delivered]);
    await produce(elsewhere, [recordOf(onOtherTopic)]);
    await produce(own, [recordOf(withOtherKey, 'not-its-key'), recordOf(delivered)]);

    const misrouted = (topic: string) => metric(relay, 'relay_misrouted_records_total', { database, topic });
    await waitUntil(async () => (await misrouted(elsewhere)) === 1 && (await misrouted(own)) === 1 && (await rowOf(db, delivered.id)).seen_at !== null, {
      timeoutMs: 15_000,
      what: 'the confirmer to count both misrouted records and confirm the third row',
    });
    for (const r of [onOtherTopic, withOtherKey]) expect(await rowOf(db, r.id)).toEqual({ sent_at: null, seen_at: null, misrouted_at: expect.any(Date) });
    expect((await rowOf(db, delivered.id)).misrouted_at).toBeNull();
    const warned = (id: string) => lines.find((l) => l.eventId === id);
    expect(warned(onOtherTopic.id)).toMatchObject({
      level: 40,
      eventType: onOtherTopic.type,
      topic: elsewhere,
      key: 'a-1',
      expected: { topic: own, key: 'a-1' },
      delivered: false,
    });
    expect(warned(withOtherKey.id)).toMatchObject({ level: 40, topic: own, key: 'not-its-key', expected: { topic: own, key: 'a-2' } });
    const red = await readyCheck(relay, `outbox:${database}`);
    expect(red.status).toBe(503);
    expect(red.check).toMatch(/2 undelivered outbox row\(s\) had their record seen on a wrong topic or with a wrong key/);

    // The delivered row's record again (a repair and Debezium both sent it): a duplicate, not misrouted.
    await produce(own, [recordOf(delivered)]);
    await waitUntil(async () => (await metric(relay, 'relay_duplicate_records_total', { database })) === 1, {
      timeoutMs: 15_000,
      what: 'the second copy to count as a duplicate',
    });
    expect(await misrouted(own)).toBe(1);

    // A relay started afresh resumes past the misrouted records, and still knows the rows wait.
    await relay.stop();
    const again = await start(keptLog([]));
    expect(await readyCheck(again, `outbox:${database}`)).toEqual({ status: 503, check: expect.stringMatching(/2 undelivered outbox row\(s\)/) });
    expect(await metric(again, 'relay_misrouted_records_total', { database, topic: elsewhere })).toBe(0);

    // The repair publishes both to their own topic with their own key; /ready turns green by itself.
    const ownRecord = (r: TestRow) => (got: Received) => got.headers.id === r.id && got.key === r.aggregateid;
    await reader.waitFor((got) => ownRecord(onOtherTopic)(got) || ownRecord(withOtherKey)(got), 2, REPAIR_AFTER_MS + 30_000);
    await waitUntil(async () => (await readyCheck(again, `outbox:${database}`)).status === 200, { timeoutMs: 15_000, what: '/ready to turn green' });
    expect(await metric(again, 'relay_repaired_total', { database })).toBe(2);
    for (const r of [onOtherTopic, withOtherKey]) expect((await rowOf(db, r.id)).sent_at).toEqual(expect.any(Date));
  }, 120_000);
});
