// The polling relay against the real stack: scratch outbox databases, topics of the test's own.
import { randomUUID } from 'node:crypto';
import { ConfigResourceTypes, type Kafka, type ProducerBatch } from 'kafkajs';
import { Registry } from 'prom-client';
import pg from 'pg';
import { createLogger, waitUntil } from '@qtshop/shared/platform';
import { createDb, createKafka, pgConnection, type Knex } from '@qtshop/shared/infra';
import { createOutboxWriter } from '@qtshop/shared/outbox';

const outbox = createOutboxWriter();
import { createdAtHeaderOf } from '../support/outbox';
import { RelayMetrics } from '../../services/relay/src/metrics';
import { protocolErrorType } from '../../services/relay/src/batch';
import { relayTransactionalId } from '../../services/relay/src/fenced-producer';
import { RELAY_APPLICATION_NAME, RELAY_LOCK_KEY } from '../../services/relay/src/lease';
import { PollingRelay } from '../../services/relay/src/polling';
import { createRelay, type Relay } from '../../services/relay/src/relay';
import { TopicReader, type Received } from '../support/kafka';
import { infra, insertRows, relayConfig, relayPg, rows, scratchDatabase, suffix, type Scratch, type TestRow } from './scratch';

const kafka = createKafka(infra.kafka, 'test-relay-polling');
const log = createLogger('relay-test', 'error');
const admin = createDb(infra, 'postgres', { max: 2 });

let cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const fn of cleanup.reverse()) await fn();
  cleanup = [];
});
afterAll(() => admin.destroy());

async function scratch(): Promise<Scratch> {
  const s = await scratchDatabase();
  cleanup.push(() => s.drop());
  return s;
}
async function reader(topics: string[]): Promise<TopicReader> {
  const r = await TopicReader.start(kafka, topics);
  cleanup.push(() => r.stop());
  return r;
}
async function relay(database: string, overrides: Parameters<typeof relayConfig>[1] = {}): Promise<Relay> {
  const r = createRelay(relayConfig(database, overrides), { log });
  await r.start();
  cleanup.push(() => r.stop());
  return r;
}
const unsent = async (db: Knex): Promise<number> => Number((await db('outbox').whereNull('sent_at').count({ n: '*' }))[0]!.n);
const stateOf = (r: Relay) => r.pollers[0]!.stats().state;
const published = (r: Relay) => r.pollers[0]!.stats().rows;
const countById = (recs: Received[]) => recs.reduce((m, r) => m.set(r.headers.id!, (m.get(r.headers.id!) ?? 0) + 1), new Map<string, number>());
const ids = (list: TestRow[]) => new Set(list.map((r) => r.id));

describe('polling relay', () => {
  it('publishes unsent rows to qtshop.<aggregatetype> keyed by aggregate id with id, eventType and traceparent headers, in order per aggregate, and marks them sent', async () => {
    const { name, db } = await scratch();
    const aggregatetype = `relaytest${suffix()}`;
    const topic = `qtshop.${aggregatetype}`;
    const list = rows(aggregatetype, 12, ['a-1', 'a-2', 'a-3']);
    const untraced = { ...rows(aggregatetype, 1, ['a-4'])[0]!, traceparent: null };
    await insertRows(db, [...list, untraced]);
    const productId = `p-${suffix()}`;
    const written = await db.transaction((trx) =>
      outbox.append(trx, {
        type: 'ProductCreated',
        aggregateId: productId,
        payload: { productId, name: 'Kettle', description: '', type: 'kitchen', brand: 'Acme', pictureUrl: '', price: 2599, version: 1 },
      }),
    );
    const recs = await reader([topic, 'qtshop.product']);

    const r = await relay(name);
    const got = await recs.waitFor((x) => x.topic === topic, 13);
    const [product] = await recs.waitFor((x) => x.headers.id === written);

    const createdAt = (id: string) => createdAtHeaderOf(db, id);
    for (const row of list) {
      const rec = got.find((x) => x.headers.id === row.id)!;
      expect(rec).toMatchObject({ topic, key: row.aggregateid });
      expect(rec.headers).toEqual({ id: row.id, eventType: row.type, traceparent: row.traceparent, createdAt: await createdAt(row.id) });
      expect(JSON.parse(rec.value!)).toEqual(JSON.parse(row.payload));
    }
    // A hand-written row without traceparent: the header is left out (kafkajs cannot send a null value).
    expect(got.find((x) => x.headers.id === untraced.id)!.headers).toEqual({
      id: untraced.id,
      eventType: untraced.type,
      createdAt: await createdAt(untraced.id),
    });
    for (const aggregate of ['a-1', 'a-2', 'a-3']) {
      expect(got.filter((x) => x.key === aggregate).map((x) => x.headers.id)).toEqual(list.filter((row) => row.aggregateid === aggregate).map((row) => row.id));
    }
    expect(product).toMatchObject({ topic: 'qtshop.product', key: productId, headers: { id: written, eventType: 'ProductCreated' } });
    expect(JSON.parse(product!.value!)).toMatchObject({ productId, price: 2599 });

    await waitUntil(async () => (await unsent(db)) === 0, { timeoutMs: 20_000, what: 'every row marked sent' });
    expect(r.pollers[0]!.stats()).toMatchObject({ state: 'active', rows: 14, errors: 0 });

    const metrics = await (await fetch(`http://127.0.0.1:${r.port}/metrics`)).text();
    expect(metrics).toMatch(new RegExp(`relay_rows_published_total\\{[^}]*database="${name}"[^}]*\\} 14`));
    expect(metrics).toMatch(new RegExp(`relay_active\\{[^}]*database="${name}"[^}]*\\} 1`));
    const ready = await fetch(`http://127.0.0.1:${r.port}/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ checks: { [`outbox:${name}`]: 'ok', kafka: 'ok' } });
  }, 60_000);

  it('keeps exactly one of two relays active, publishes each event once, and the standby takes over when the active one stops', async () => {
    const { name, db } = await scratch();
    const aggregatetype = `relaytest${suffix()}`;
    const topic = `qtshop.${aggregatetype}`;
    const recs = await reader([topic]);
    const [one, two] = [await relay(name), await relay(name)];
    await waitUntil(async () => [stateOf(one!), stateOf(two!)].sort().join() === 'active,standby', {
      timeoutMs: 20_000,
      what: 'one active relay and one standby',
    });

    // 300 events in 30 transactions while both run.
    const list = rows(aggregatetype, 300, ['o-1', 'o-2', 'o-3', 'o-4', 'o-5']);
    for (let i = 0; i < list.length; i += 10) await insertRows(db, list.slice(i, i + 10));
    await recs.waitFor((x) => ids(list).has(x.headers.id!), 300);
    await waitUntil(async () => (await unsent(db)) === 0, { timeoutMs: 20_000, what: 'every row marked sent' });
    expect([...countById(recs.received).values()].every((n) => n === 1)).toBe(true);
    expect(recs.received).toHaveLength(300);
    expect(published(one!) + published(two!)).toBe(300);
    const [active, standby] = stateOf(one!) === 'active' ? [one!, two!] : [two!, one!];
    expect(published(standby)).toBe(0);

    await active.stop();
    const stoppedAt = Date.now();
    await waitUntil(async () => stateOf(standby) === 'active', { timeoutMs: 20_000, what: 'the standby to take over' });
    expect(Date.now() - stoppedAt).toBeLessThan(1000); // a few 100 ms intervals

    const more = rows(aggregatetype, 20, ['o-1', 'o-6']);
    await insertRows(db, more);
    await recs.waitFor((x) => ids(more).has(x.headers.id!), 20);
    expect(published(standby)).toBe(20);
    expect(recs.received).toHaveLength(320);
  }, 60_000);

  it('keeps exactly one relay active when the active one loses its connection, and publishes every new row once', async () => {
    const { name, db } = await scratch();
    const aggregatetype = `relaytest${suffix()}`;
    const recs = await reader([`qtshop.${aggregatetype}`]);
    const [one, two] = [await relay(name), await relay(name)];
    await waitUntil(async () => [stateOf(one!), stateOf(two!)].sort().join() === 'active,standby', {
      timeoutMs: 20_000,
      what: 'one active relay and one standby',
    });
    const [active, standby] = stateOf(one!) === 'active' ? [one!, two!] : [two!, one!];

    // Kill the backend that holds the advisory lock: the lock goes with the session.
    const killed = await admin.raw(
      `select pg_terminate_backend(l.pid) as ok from pg_locks l join pg_database d on d.oid = l.database
       where l.locktype = 'advisory' and l.granted and d.datname = ?`,
      [name],
    );
    expect(killed.rows).toEqual([{ ok: true }]);
    // Either relay may win the lock next (the old one reconnects and competes too); what matters is
    // that one is active again, the other stands by, and nothing is published twice.
    const before = published(active) + published(standby);
    await waitUntil(
      async () => {
        const lock = await admin.raw(
          `select count(*)::int as n from pg_locks l join pg_database d on d.oid = l.database where l.locktype = 'advisory' and l.granted and d.datname = ?`,
          [name],
        );
        return lock.rows[0].n === 1 && [stateOf(one!), stateOf(two!)].sort().join() === 'active,standby';
      },
      { timeoutMs: 20_000, what: 'one relay to hold the lock again and the other to stand by' },
    );

    const list = rows(aggregatetype, 50, ['k-1', 'k-2']);
    await insertRows(db, list);
    await recs.waitFor((x) => ids(list).has(x.headers.id!), 50);
    expect(published(active) + published(standby) - before).toBe(50);
    expect(recs.received.filter((x) => ids(list).has(x.headers.id!))).toHaveLength(50);
  }, 60_000);

  it('takes over from a lock holder whose session stays idle past OUTBOX_TAKEOVER_AFTER_MS (a frozen relay), and never from a live one', async () => {
    const { name, db } = await scratch();
    const aggregatetype = `relaytest${suffix()}`;
    const recs = await reader([`qtshop.${aggregatetype}`]);
    // Holders outside the relay: one frozen (holds the lock, runs nothing, as a SIGSTOPped relay), one live;
    // relays both, to PostgreSQL too (a relay may end only the sessions of its own role).
    const holder = async () => {
      const c = new pg.Client(pgConnection(relayPg(), name, RELAY_APPLICATION_NAME));
      c.on('error', () => undefined);
      await c.connect();
      expect((await c.query('select pg_try_advisory_lock($1::bigint) as ok', [RELAY_LOCK_KEY])).rows[0].ok).toBe(true);
      return c;
    };
    const live = await holder();
    const beat = setInterval(() => void live.query('select 1').catch(() => undefined), 200);
    const r = await relay(name, { OUTBOX_TAKEOVER_AFTER_MS: 1500 });
    await waitUntil(async () => stateOf(r) === 'standby', { timeoutMs: 10_000, what: 'the relay to stand by' });
    await new Promise((done) => setTimeout(done, 3000)); // twice the takeover bound, with a live holder
    expect(stateOf(r)).toBe('standby');
    // The live holder freezes: it keeps its session and the lock and runs nothing more. (Ending it and
    // locking again from a new session raced the standby, which could take the freed lock first.)
    clearInterval(beat);
    await live.query('select 1');
    const frozen = live;
    const since = Date.now();
    await waitUntil(async () => stateOf(r) === 'active', { timeoutMs: 15_000, what: 'the relay to take over from the frozen holder' });
    expect(Date.now() - since).toBeGreaterThanOrEqual(1500);
    expect(await r.registry.getSingleMetric('relay_takeovers_total')!.get()).toMatchObject({ values: [{ value: 1 }] });
    await expect(frozen.query('select 1')).rejects.toThrow(); // its session was ended: resumed, it can mark nothing sent
    await frozen.end().catch(() => undefined);

    const list = rows(aggregatetype, 10, ['f-1']);
    await insertRows(db, list);
    await recs.waitFor((x) => ids(list).has(x.headers.id!), 10);
  }, 60_000);

  it('fences a holder frozen in the middle of a send: what it had sent is never committed, and the new holder publishes each row once', async () => {
    const { name, db } = await scratch();
    const aggregatetype = `relaytest${suffix()}`;
    const topic = `qtshop.${aggregatetype}`;
    const recs = await reader([topic]);
    const list = rows(aggregatetype, 10, ['z-1', 'z-2']);
    await insertRows(db, list);
    // The frozen relay as PostgreSQL and Kafka see it: it holds the outbox lock (idle), and has sent a row's
    // record and one more (an id no row has) in a transaction under the database's transactional id.
    const frozenDb = new pg.Client(pgConnection(relayPg(), name, RELAY_APPLICATION_NAME));
    frozenDb.on('error', () => undefined);
    await frozenDb.connect();
    expect((await frozenDb.query('select pg_try_advisory_lock($1::bigint) as ok', [RELAY_LOCK_KEY])).rows[0].ok).toBe(true);
    const frozen = kafka.producer({
      transactionalId: relayTransactionalId(relayConfig(name).OUTBOX_TRANSACTIONAL_ID_PREFIX, name),
      idempotent: true,
      maxInFlightRequests: 1,
    });
    await frozen.connect();
    cleanup.push(() => frozen.disconnect());
    const tx = await frozen.transaction();
    const ghost = randomUUID();
    await tx.sendBatch({
      acks: -1,
      topicMessages: [
        {
          topic,
          messages: [
            { key: list[0]!.aggregateid, value: list[0]!.payload, headers: { id: list[0]!.id } },
            { key: 'z-1', value: '{}', headers: { id: ghost } },
          ],
        },
      ],
    });

    // A standby takes the lock from the idle session, fences the frozen producer and publishes every row.
    const r = await relay(name, { OUTBOX_TAKEOVER_AFTER_MS: 1500 });
    await recs.waitFor((x) => ids(list).has(x.headers.id!), 10);
    await waitUntil(async () => (await unsent(db)) === 0, { timeoutMs: 20_000, what: 'every row marked sent' });

    // Resumed, the frozen relay cannot commit what it had sent.
    const commit = await tx.commit().then(
      () => 'committed',
      (err: unknown) => protocolErrorType(err) ?? String(err),
    );
    expect(['INVALID_PRODUCER_EPOCH', 'PRODUCER_FENCED']).toContain(commit);
    // A row written after it: once it is read, the reader is past everything the frozen relay had sent.
    const [last] = rows(aggregatetype, 1, ['z-1']);
    await insertRows(db, [last!]);
    await recs.waitFor((x) => x.headers.id === last!.id);
    expect(recs.received.filter((x) => x.headers.id === ghost)).toEqual([]);
    expect([...countById(recs.received).values()].every((n) => n === 1)).toBe(true);
    expect(recs.received).toHaveLength(list.length + 1);
    await frozenDb.end().catch(() => undefined);
    expect(r.pollers[0]!.stats().errors).toBe(0);
  }, 60_000);

  it('stops and starts over when Kafka fences its own producer (another relay initialised the transactional id), counting it', async () => {
    const { name, db } = await scratch();
    const aggregatetype = `relaytest${suffix()}`;
    const recs = await reader([`qtshop.${aggregatetype}`]);
    const r = await relay(name);
    await waitUntil(async () => stateOf(r) === 'active', { timeoutMs: 15_000, what: 'the relay to be active' });
    // Another producer initialises the database's transactional id, as a relay that took over would.
    const usurper = kafka.producer({
      transactionalId: relayTransactionalId(relayConfig(name).OUTBOX_TRANSACTIONAL_ID_PREFIX, name),
      idempotent: true,
      maxInFlightRequests: 1,
    });
    await usurper.connect();
    await (await usurper.transaction()).abort();
    await usurper.disconnect();

    const list = rows(aggregatetype, 20, ['u-1', 'u-2']);
    await insertRows(db, list);
    await recs.waitFor((x) => ids(list).has(x.headers.id!), 20);
    await waitUntil(async () => (await unsent(db)) === 0, { timeoutMs: 20_000, what: 'every row marked sent' });
    expect(await r.registry.getSingleMetric('relay_fenced_total')!.get()).toMatchObject({ values: [{ value: 1, labels: { database: name } }] });
    expect([...countById(recs.received).values()].every((n) => n === 1)).toBe(true);
  }, 60_000);

  it('drains a backlog with back-to-back polls instead of one batch per interval', async () => {
    const { name, db } = await scratch();
    const aggregatetype = `relaytest${suffix()}`;
    const recs = await reader([`qtshop.${aggregatetype}`]);
    await insertRows(db, rows(aggregatetype, 2000, ['d-1', 'd-2', 'd-3', 'd-4']));

    const started = Date.now();
    // An interval long enough that a loaded machine cannot blur the difference: one batch per interval
    // would take 60 s or more.
    const r = await relay(name, { OUTBOX_POLL_INTERVAL_MS: 20_000, OUTBOX_BATCH_SIZE: 500 });
    await waitUntil(async () => (await unsent(db)) === 0, { timeoutMs: 30_000, everyMs: 20, what: 'the backlog to drain' });
    const elapsed = Date.now() - started;

    expect(elapsed).toBeLessThan(15_000);
    const stats = r.pollers[0]!.stats();
    expect(stats).toMatchObject({ rows: 2000, batches: 4, errors: 0 });
    expect(stats.polls).toBeLessThanOrEqual(5); // 4 full batches, then one that finds nothing
    await recs.waitFor(() => true, 2000);
  }, 60_000);

  it('rolls back a batch whose publish fails and publishes it on a later tick', async () => {
    const { name, db } = await scratch();
    const aggregatetype = `relaytest${suffix()}`;
    const recs = await reader([`qtshop.${aggregatetype}`]);
    const list = rows(aggregatetype, 10, ['f-1']);
    await insertRows(db, list);

    // Kafka whose producers fail their first send (in its transaction), as when the broker is away.
    let failures = 1;
    const flaky = {
      producer: (...args: Parameters<Kafka['producer']>) => {
        const producer = kafka.producer(...args);
        const transaction = producer.transaction.bind(producer);
        producer.transaction = async () => {
          const tx = await transaction();
          const send = tx.sendBatch.bind(tx);
          tx.sendBatch = async (batch: ProducerBatch) => {
            if (failures-- > 0) throw new Error('broker away (test)');
            return send(batch);
          };
          return tx;
        };
        return producer;
      },
    } as unknown as Kafka;
    const poller = new PollingRelay({
      database: name,
      pg: relayPg(),
      kafka: flaky,
      intervalMs: 100,
      takeoverAfterMs: 15_000,
      transactionalId: `qtshop-relay-test.${name}`,
      batchSize: 500,
      maxBatchBytes: 900_000,
      repairAfterMs: 0,
      log,
      metrics: new RelayMetrics(new Registry()),
    });
    poller.start();
    cleanup.push(() => poller.stop());

    await recs.waitFor((x) => ids(list).has(x.headers.id!), 10);
    await waitUntil(async () => (await unsent(db)) === 0, { timeoutMs: 20_000, what: 'every row marked sent' });
    expect(poller.stats()).toMatchObject({ state: 'active', rows: 10, batches: 1, errors: 1, lastError: 'broker away (test)' });
    expect(recs.received.map((x) => x.headers.id)).toEqual(list.map((r) => r.id));
  }, 60_000);

  it("waits out Kafka refusing its records (a topic's max.message.bytes below the relay's limit): nothing quarantined, /ready 503 saying why, all delivered in order once Kafka accepts", async () => {
    const { name, db } = await scratch();
    const aggregatetype = `relaytest${suffix()}`;
    const topic = `qtshop.${aggregatetype}`;
    const recs = await reader([topic]);
    const kafkaAdmin = kafka.admin();
    await kafkaAdmin.connect();
    cleanup.push(() => kafkaAdmin.disconnect());
    const maxMessageBytes = (bytes: number) =>
      kafkaAdmin.alterConfigs({
        validateOnly: false,
        resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configEntries: [{ name: 'max.message.bytes', value: String(bytes) }] }],
      });
    await maxMessageBytes(200); // an operator's change, or a topic policy: the rows are fine
    const r = await relay(name, { OUTBOX_RETRY_BACKOFF_MAX_MS: 1000 });
    const list = rows(aggregatetype, 3, ['refused-1', 'refused-2']);
    await insertRows(db, list);

    const ready = () =>
      fetch(`http://127.0.0.1:${r.port}/ready`).then(async (res) => ({ status: res.status, body: (await res.json()) as { checks: Record<string, string> } }));
    const refused = await waitUntil(async () => ((await ready()).status === 503 ? ready() : undefined), { timeoutMs: 15_000, what: 'the relay /ready 503' });
    expect(refused.body.checks[`outbox:${name}`]).toMatch(/Kafka refuses the relay's records on qtshop\.relaytest.* \(MESSAGE_TOO_LARGE/);
    expect(Number(/relay_kafka_refusing\{[^}]*reason="MESSAGE_TOO_LARGE"[^}]*\} (\d+)/.exec(await r.registry.metrics())?.[1])).toBe(1);
    expect(await db('outbox').whereNotNull('quarantined_at').count({ n: '*' })).toEqual([{ n: '0' }]);
    expect(await unsent(db)).toBe(3);

    await maxMessageBytes(1_048_588);
    await waitUntil(async () => (await unsent(db)) === 0, { timeoutMs: 20_000, what: 'every row delivered once Kafka accepts' });
    await recs.waitFor((x) => ids(list).has(x.headers.id!), 3);
    for (const key of ['refused-1', 'refused-2']) {
      // In order per aggregate (the key), as written.
      const got = recs.received.filter((x) => ids(list).has(x.headers.id!) && x.key === key).map((x) => x.headers.id);
      expect(got).toEqual(list.filter((x) => x.aggregateid === key).map((x) => x.id));
    }
    await waitUntil(async () => (await ready()).status === 200, { timeoutMs: 10_000, what: 'the relay /ready 200 again' });
    expect(r.pollers[0]!.stats().quarantined).toBe(0);
  }, 60_000);

  it('drains a backlog of large rows that adds up to several MB on one partition, in sends under the byte bound', async () => {
    const { name, db } = await scratch();
    const aggregatetype = `relaybig${suffix()}`;
    const topic = `qtshop.${aggregatetype}`;
    // 24 rows of ~300 KB for one aggregate (one partition): 7 MB, far over a 1 MB request.
    const list = rows(aggregatetype, 24, ['big-1']).map((r, seq) => ({ ...r, payload: JSON.stringify({ seq, blob: 'b'.repeat(300_000) }) }));
    await insertRows(db, list);
    const recs = await reader([topic]);
    const r = await relay(name, { OUTBOX_BATCH_MAX_BYTES: 900_000 });
    const got = await recs.waitFor((x) => x.topic === topic, 24, 60_000);
    expect(got.map((x) => x.headers.id)).toEqual(list.map((x) => x.id));
    await waitUntil(async () => (await unsent(db)) === 0, { timeoutMs: 20_000, what: 'every row marked sent' });
    const stats = r.pollers[0]!.stats();
    expect(stats).toMatchObject({ rows: 24, quarantined: 0 });
    expect(stats.batches).toBeGreaterThanOrEqual(8); // at most two ~300 KB records per 900 KB send
  }, 90_000);
});
