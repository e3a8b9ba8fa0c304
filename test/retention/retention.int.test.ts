// Retention on the real stack: the services prune processed event ids past INBOX_RETENTION_MS
// and order-command its idempotency keys past IDEMPOTENCY_KEY_RETENTION_MS, deleting every row past the
// retention and none younger; no inbox row goes while the retention is not above the redelivery window that
// Kafka's topic configuration gives.
import { randomUUID } from 'node:crypto';
import { MongoClient } from 'mongodb';
import { Registry } from 'prom-client';
import { createLogger, waitUntil } from '@qtshop/shared/platform';
import { createKafka, loadInfra, type Knex } from '@qtshop/shared/infra';
import {
  DAY_MS,
  dlqTopicOf,
  INBOX_TABLE,
  MONGO_INBOX,
  mongoInboxRetention,
  pgInboxRetention,
  Pruner,
  redeliveryWindowMs,
  retentionSettings,
} from '@qtshop/shared/messaging';
import { migrateLatest } from '@qtshop/shared/tooling';
import { MIGRATIONS } from '../../migrations';
import { loadOrderCommandConfig } from '../../services/order-command/src/config';
import { startOrderCommand } from '../../services/order-command/src/service';
import { loadOrderQueryConfig } from '../../services/order-query/src/config';
import { startOrderQuery } from '../../services/order-query/src/service';
import { basketForTest } from '../support/basket';
import { scratchDb, type ScratchDb } from '../support/scratch';
import { quiet } from '../support/services';

const infra = loadInfra();
const kafka = createKafka(infra.kafka, 'retention-test');
const log = createLogger('retention-test', 'silent');
const HOUR_MS = 3_600_000;
const MINUTE_MS = 60_000;
const suffix = () => randomUUID().replace(/-/g, '').slice(0, 12);

/** Inserts inbox rows processed `ageMs` ago (by the database's clock); returns their ids. */
async function seedInbox(db: Knex, n: number, ageMs: number): Promise<string[]> {
  const ids = Array.from({ length: n }, () => randomUUID());
  await db(INBOX_TABLE).insert(
    ids.map((id) => ({
      event_id: id,
      event_type: 'ProductCreated',
      aggregate_id: randomUUID(),
      version: 1,
      outcome: 'applied',
      processed_at: db.raw(`now() - make_interval(secs => ?::double precision)`, [ageMs / 1000]),
    })),
  );
  return ids;
}

const present = async (db: Knex, table: string, column: string, ids: string[]): Promise<string[]> =>
  (await db(table).whereIn(column, ids).select(column)).map((r: Record<string, string>) => r[column]!).sort();

async function metric(registry: Registry, name: string, table: string): Promise<number> {
  const m = (await registry.getSingleMetric(name)?.get())?.values.find((v) => v.labels.table === table);
  return m?.value ?? NaN;
}

async function ordersScratch(db: 'orders' | 'order_query'): Promise<ScratchDb> {
  const scratch = await scratchDb(`retention_${db}`);
  await migrateLatest(scratch.db, MIGRATIONS[db]);
  return scratch;
}

// ---------------------------------------------------------------- the redelivery window, from Kafka

describe('redeliveryWindowMs', () => {
  const admin = kafka.admin();
  beforeAll(() => admin.connect());
  afterAll(() => admin.disconnect());

  async function topicWith(topic: Record<string, string>, dlq: Record<string, string>): Promise<string> {
    const name = `retention-test-${suffix()}`;
    const entries = (c: Record<string, string>) => Object.entries(c).map(([name, value]) => ({ name, value }));
    await admin.createTopics({
      topics: [
        { topic: name, numPartitions: 1, configEntries: entries(topic) },
        { topic: dlqTopicOf(name), numPartitions: 1, configEntries: entries(dlq) },
      ],
      waitForLeaders: true,
    });
    return name;
  }

  it("is the record's lifetime (retention.ms + segment.ms) on the topic, on its dead-letter topic and on the topic again", async () => {
    const topic = await topicWith(
      { 'retention.ms': String(HOUR_MS), 'segment.ms': String(10 * MINUTE_MS) },
      { 'retention.ms': String(2 * HOUR_MS), 'segment.ms': String(10 * MINUTE_MS) },
    );
    expect(await redeliveryWindowMs(kafka, [topic])).toBe(2 * (HOUR_MS + 10 * MINUTE_MS) + (2 * HOUR_MS + 10 * MINUTE_MS));
  });

  it("takes the broker's defaults for a topic without its own (the stack's: 7 days each, 42 days in all), below the inbox's default retention", async () => {
    const topic = await topicWith({}, {});
    const window = await redeliveryWindowMs(kafka, [topic]);
    expect(window).toBe(3 * (7 * DAY_MS + 7 * DAY_MS));
    expect(Number(retentionSettings.INBOX_RETENTION_MS.default)).toBeGreaterThan(window);
  });

  it('is unbounded when a topic keeps its records for ever (retention.ms=-1), and the longest of several topics', async () => {
    const short = await topicWith(
      { 'retention.ms': String(HOUR_MS), 'segment.ms': String(HOUR_MS) },
      { 'retention.ms': String(HOUR_MS), 'segment.ms': String(HOUR_MS) },
    );
    const forever = await topicWith({ 'retention.ms': '-1' }, {});
    expect(await redeliveryWindowMs(kafka, [short])).toBe(6 * HOUR_MS);
    expect(await redeliveryWindowMs(kafka, [short, forever])).toBe(Infinity);
  });
});

// ---------------------------------------------------------------- the pruner, table by table

describe('Pruner on a PostgreSQL inbox', () => {
  let scratch: ScratchDb;
  beforeEach(async () => {
    scratch = await ordersScratch('order_query');
  });
  afterEach(() => scratch.drop());

  it('deletes every processed id older than the retention, in bounded batches, and keeps every younger one', async () => {
    // Either side of a 1 h retention by 5 minutes: a pruner deleting too much or too little fails here.
    const old = [...(await seedInbox(scratch.db, 7, HOUR_MS + 5 * MINUTE_MS)), ...(await seedInbox(scratch.db, 3, 40 * DAY_MS))];
    const young = [...(await seedInbox(scratch.db, 4, HOUR_MS - 5 * MINUTE_MS)), ...(await seedInbox(scratch.db, 2, 0))];
    const registry = new Registry();
    const pruner = new Pruner({ targets: [pgInboxRetention(scratch.db, HOUR_MS, async () => 0)], intervalMs: 60_000, log, registry, batchSize: 3 });

    expect(await pruner.runOnce()).toEqual({ [INBOX_TABLE]: old.length });
    expect(await present(scratch.db, INBOX_TABLE, 'event_id', [...old, ...young])).toEqual([...young].sort());
    expect(await metric(registry, 'retention_pruned_rows_total', INBOX_TABLE)).toBe(old.length);
    expect(await pruner.runOnce()).toEqual({ [INBOX_TABLE]: 0 });
  });

  it('deletes nothing while the retention is not longer than the redelivery window, and says so', async () => {
    const old = await seedInbox(scratch.db, 3, 2 * HOUR_MS);
    const registry = new Registry();
    let window = HOUR_MS;
    const pruner = new Pruner({ targets: [pgInboxRetention(scratch.db, HOUR_MS, async () => window)], intervalMs: 60_000, log, registry });

    expect(await pruner.runOnce()).toEqual({ [INBOX_TABLE]: 0 });
    expect(await present(scratch.db, INBOX_TABLE, 'event_id', old)).toEqual([...old].sort());
    expect(await metric(registry, 'retention_skipped', INBOX_TABLE)).toBe(1);

    window = HOUR_MS - 1;
    expect(await pruner.runOnce()).toEqual({ [INBOX_TABLE]: old.length });
    expect(await metric(registry, 'retention_skipped', INBOX_TABLE)).toBe(0);
  });

  it('counts a failing run and goes on with the other tables', async () => {
    const old = await seedInbox(scratch.db, 2, 2 * HOUR_MS);
    const registry = new Registry();
    const failing = { table: 'broken', retentionMs: HOUR_MS, deleteBatch: () => Promise.reject(new Error('no such table')) };
    const pruner = new Pruner({ targets: [failing, pgInboxRetention(scratch.db, HOUR_MS)], intervalMs: 60_000, log, registry });
    expect(await pruner.runOnce()).toEqual({ broken: 0, [INBOX_TABLE]: old.length });
    expect(await metric(registry, 'retention_errors_total', 'broken')).toBe(1);
  });
});

describe('Pruner on the MongoDB inbox', () => {
  it('deletes every processed id older than the retention and keeps every younger one', async () => {
    const client = new MongoClient(infra.mongo.url, { serverSelectionTimeoutMS: 5000 });
    await client.connect();
    const db = client.db(`retention_test_${suffix()}`);
    try {
      const col = db.collection<{ _id: string; processedAt: Date }>(MONGO_INBOX);
      const at = (ageMs: number) => ({
        _id: randomUUID(),
        type: 'ProductCreated',
        aggregateId: null,
        version: 1,
        outcome: 'applied',
        processedAt: new Date(Date.now() - ageMs),
      });
      const old = [...Array.from({ length: 5 }, () => at(HOUR_MS + 5 * MINUTE_MS)), at(50 * DAY_MS)];
      const young = [...Array.from({ length: 3 }, () => at(HOUR_MS - 5 * MINUTE_MS)), at(0)];
      await col.insertMany([...old, ...young]);
      const pruner = new Pruner({
        targets: [mongoInboxRetention(db, HOUR_MS, async () => 0)],
        intervalMs: 60_000,
        log,
        registry: new Registry(),
        batchSize: 2,
      });

      expect(await pruner.runOnce()).toEqual({ [MONGO_INBOX]: old.length });
      const left = (await col.find({}, { projection: { _id: 1 } }).toArray()).map((d) => d._id).sort();
      expect(left).toEqual(young.map((d) => d._id).sort());
    } finally {
      await db.dropDatabase();
      await client.close();
    }
  });
});

// ---------------------------------------------------------------- the services, as configured by default

describe('the services prune with their default retentions', () => {
  const fast = { RETENTION_INTERVAL_MS: '200', ADMIN_TOKEN: 'dev-admin-token' };

  it('order-query: inbox rows past 45 days go, those of 44 days stay (the stack topics give a 42-day window)', async () => {
    const scratch = await ordersScratch('order_query');
    const svc = await startOrderQuery(
      loadOrderQueryConfig({ ...process.env, ...fast, ORDER_QUERY_DB: scratch.name, ORDER_QUERY_GROUP: `qtshop-order-query-retention-test-${suffix()}` }),
      quiet,
      0,
    );
    try {
      const old = await seedInbox(scratch.db, 5, 45 * DAY_MS + HOUR_MS);
      const young = await seedInbox(scratch.db, 5, 44 * DAY_MS);
      await waitUntil(async () => (await present(scratch.db, INBOX_TABLE, 'event_id', old)).length === 0, {
        timeoutMs: 20_000,
        what: 'inbox rows past 45 days pruned',
      });
      expect(await present(scratch.db, INBOX_TABLE, 'event_id', young)).toEqual([...young].sort());
      const metrics = await (await fetch(`http://127.0.0.1:${svc.port}/metrics`)).text();
      expect(metrics).toMatch(/retention_pruned_rows_total\{table="processed_events",service="order-query"\} 5/);
      expect(metrics).toMatch(/retention_skipped\{table="processed_events",service="order-query"\} 0/);
    } finally {
      await svc.stop();
      await scratch.drop();
    }
  }, 60_000);

  it('order-command: idempotency keys past 24 hours go, younger ones stay, and its inbox is pruned too', async () => {
    const scratch = await ordersScratch('orders');
    const svc = await startOrderCommand(
      loadOrderCommandConfig({
        ...process.env,
        ...fast,
        ORDER_COMMAND_DB: scratch.name,
        ORDER_COMMAND_GROUP: `qtshop-order-command-retention-test-${suffix()}`,
      }),
      quiet,
      0,
    );
    try {
      const key = (ageMs: number) => ({
        key: randomUUID(),
        request_hash: 'h',
        order_id: randomUUID(),
        created_at: scratch.db.raw(`now() - make_interval(secs => ?::double precision)`, [ageMs / 1000]),
      });
      const oldKeys = [key(DAY_MS + 10 * MINUTE_MS), key(DAY_MS + 10 * MINUTE_MS), key(30 * DAY_MS)];
      const youngKeys = [key(DAY_MS - 10 * MINUTE_MS), key(0)];
      await scratch.db('idempotency_keys').insert([...oldKeys, ...youngKeys]);
      const oldIds = await seedInbox(scratch.db, 2, 46 * DAY_MS);
      const keys = (list: Array<{ key: string }>) => list.map((k) => k.key);
      await waitUntil(async () => (await present(scratch.db, 'idempotency_keys', 'key', keys(oldKeys))).length === 0, {
        timeoutMs: 20_000,
        what: 'idempotency keys past 24 h pruned',
      });
      expect(await present(scratch.db, 'idempotency_keys', 'key', keys(youngKeys))).toEqual(keys(youngKeys).sort());
      await waitUntil(async () => (await present(scratch.db, INBOX_TABLE, 'event_id', oldIds)).length === 0, { timeoutMs: 20_000, what: 'inbox pruned' });
    } finally {
      await svc.stop();
      await scratch.drop();
    }
  }, 60_000);

  it('basket: MongoDB inbox documents past 45 days go, those of 44 days stay', async () => {
    const basket = await basketForTest({ RETENTION_INTERVAL_MS: '200' });
    try {
      const col = basket.db.collection<{ _id: string; processedAt: Date }>(MONGO_INBOX);
      const at = (ageMs: number) => ({
        _id: randomUUID(),
        type: 'ProductCreated',
        aggregateId: null,
        version: 1,
        outcome: 'applied',
        processedAt: new Date(Date.now() - ageMs),
      });
      const old = [at(45 * DAY_MS + HOUR_MS), at(60 * DAY_MS)];
      const young = [at(44 * DAY_MS), at(0)];
      await col.insertMany([...old, ...young]);
      await waitUntil(async () => (await col.countDocuments({ _id: { $in: old.map((d) => d._id) } })) === 0, {
        timeoutMs: 20_000,
        what: 'basket inbox pruned',
      });
      expect(await col.countDocuments({ _id: { $in: young.map((d) => d._id) } })).toBe(young.length);
    } finally {
      await basket.stop();
    }
  }, 60_000);
});
