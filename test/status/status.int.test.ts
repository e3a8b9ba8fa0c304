// npm run status against a stack in a known state: the catalog connector paused with an old row waiting,
// a consumer group with lag and nobody consuming, a dead letter not redriven.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { waitUntil } from '@qtshop/shared/platform';
import { createKafka, ensureTopics } from '@qtshop/shared/infra';
import { traceparentFrom } from '@qtshop/shared/observability';
import { dlqTopicOf } from '@qtshop/shared/messaging';
import { ConnectClient, observeOutbox, registerConnector } from '@qtshop/shared/delivery';
import { readConnector, type PipelineStatus } from '@qtshop/shared/tooling';
import { cli, debeziumRelay, infra, metric, openDb, productFields } from '../delivery/support';
import { useRelay, type RelayHandle } from '../support/relay';

const CONNECTOR = readConnector('catalog-outbox');
const connect = ConnectClient.of(infra.connect);
const kafka = createKafka(infra.kafka, 'test-status');
const catalogDb = openDb('catalog');
const productRow = (productId = randomUUID(), created = catalogDb.fn.now()) => ({
  id: randomUUID(),
  aggregatetype: 'product',
  aggregateid: productId,
  type: 'ProductCreated',
  payload: JSON.stringify({ productId, ...productFields(), version: 1 }),
  traceparent: traceparentFrom(),
  created_at: created,
});
const admin = openDb('postgres');
const topic = `test.status-${randomUUID()}`;
const group = `test-status-${randomUUID()}`;
let relay: RelayHandle;

beforeAll(async () => {
  relay = await useRelay('debezium', ['catalog']);
  await connect.pause(CONNECTOR.name);
  await waitUntil(async () => (await connect.status(CONNECTOR.name)).connector.state === 'PAUSED', { timeoutMs: 30_000, what: 'the connector to pause' });
  // A valid event, two minutes old, that nobody has delivered (Debezium streams it once resumed).
  await catalogDb('outbox').insert(productRow(randomUUID(), catalogDb.raw(`now() - interval '2 minutes'`)));
  // A group that consumed up to offset 0 of both partitions, then 3 + 1 messages it has not read.
  await ensureTopics(kafka, [topic, dlqTopicOf(topic)], 2);
  const kafkaAdmin = kafka.admin();
  await kafkaAdmin.connect();
  await kafkaAdmin.setOffsets({ groupId: group, topic, partitions: [0, 1].map((partition) => ({ partition, offset: '0' })) });
  await kafkaAdmin.disconnect();
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({ topic, messages: [0, 0, 0, 1].map((partition) => ({ partition, value: 'x' })) });
  await producer.send({ topic: dlqTopicOf(topic), messages: [{ value: 'not json', headers: { 'dlq.reason': 'invalid_json' } }] });
  await producer.disconnect();
}, 120_000);

afterAll(async () => {
  await connect.resume(CONNECTOR.name);
  await registerConnector(connect, admin, CONNECTOR);
  await relay.stop();
  await Promise.all([catalogDb.destroy(), admin.destroy()]);
}, 60_000);

describe('npm run status', () => {
  it('reports the paused connector, the lagging group and the dead letter in --json, and exits 1', async () => {
    const { code, stdout, stderr } = await cli('scripts/status.ts', ['--json'], {
      RELAY_MODE: 'debezium',
      OUTBOX_DATABASES: 'catalog',
      RELAY_LAG_GROUPS: group,
      RELAY_DLQ_TOPICS: topic,
    });
    expect(stderr).toBe('');
    expect(code).toBe(1);
    const status = JSON.parse(stdout) as PipelineStatus;

    expect(status.relayMode).toEqual({ mode: 'debezium', from: 'settings' });
    const [catalog] = status.outboxes;
    expect(catalog).toMatchObject({
      database: 'catalog',
      connector: { name: CONNECTOR.name, state: 'PAUSED' },
      slot: { name: CONNECTOR['slot.name'], exists: true },
      level: 'bad',
    });
    if (!catalog || 'error' in catalog) throw new Error('catalog was not observed');
    expect(catalog.unconfirmed).toBeGreaterThanOrEqual(1);
    expect(catalog.oldestUnconfirmedS).toBeGreaterThanOrEqual(120);
    expect(catalog.problems).toEqual(
      expect.arrayContaining([expect.stringMatching(/connector catalog-outbox is PAUSED/), expect.stringMatching(/oldest undelivered row/)]),
    );

    const lagging = status.consumerGroups.find((g) => g.group === group);
    expect(lagging).toMatchObject({
      state: 'Empty',
      members: 0,
      lag: 4,
      level: 'bad',
      partitions: [
        { topic, partition: 0, committed: '0', end: '3', lag: 3 },
        { topic, partition: 1, committed: '0', end: '1', lag: 1 },
      ],
    });

    expect(status.deadLetters).toEqual([
      { topic, dlqTopic: `${topic}.dlq`, exists: true, messages: 1, pending: 1, level: 'bad', problems: [expect.stringMatching(/1 dead-lettered message/)] },
    ]);
    expect(status.problems.filter((p) => p.level === 'bad').map((p) => p.where)).toEqual(
      expect.arrayContaining(['outbox catalog', `group ${group}`, `dead letters ${topic}.dlq`]),
    );
  }, 60_000);

  it('prints the same as tables without colour when piped, problems listed last', async () => {
    const { stdout } = await cli('scripts/status.ts', [], { OUTBOX_DATABASES: 'catalog', RELAY_LAG_GROUPS: group, RELAY_DLQ_TOPICS: topic });
    expect(stdout).not.toContain('\x1b[');
    expect(stdout).toMatch(new RegExp(`catalog\\s+catalog-outbox\\s+PAUSED\\s+${CONNECTOR['slot.name']}`));
    expect(stdout).toMatch(new RegExp(`${group}\\s+Empty\\s+0\\s+${topic}\\s+4\\s+0:3 1:1\\s+FAIL`));
    expect(stdout).toMatch(new RegExp(`${topic}\\.dlq\\s+1\\s+1\\s+FAIL`));
    expect(stdout).toMatch(/problem\(s\):\n(.+\n)*  FAIL dead letters/);
  }, 60_000);

  it('--json --watch prints a fresh status line at each interval until it is stopped', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', resolve(import.meta.dirname, '../../scripts/status.ts'), '--json', '--watch=0.3'], {
      cwd: resolve(import.meta.dirname, '../..'),
      env: { ...process.env, OUTBOX_DATABASES: 'catalog', RELAY_LAG_GROUPS: group, RELAY_DLQ_TOPICS: topic },
    });
    try {
      let out = '';
      child.stdout.on('data', (c: Buffer) => (out += c.toString()));
      const lines = await waitUntil(async () => (out.split('\n').length > 3 ? out.split('\n').slice(0, 3) : undefined), {
        timeoutMs: 45_000,
        what: 'three status lines from --watch',
      });
      const statuses = lines.map((l) => JSON.parse(l) as PipelineStatus);
      for (const status of statuses) expect(status.outboxes[0]).toMatchObject({ database: 'catalog', connector: { state: 'PAUSED' } });
      expect(new Set(statuses.map((status) => status.at)).size).toBe(3);
      expect(child.exitCode).toBeNull(); // still watching
    } finally {
      child.kill('SIGINT');
    }
  }, 60_000);

  it("shows the paused connector's slot retaining more WAL with every write, and the relay's /metrics read the same", async () => {
    // A debezium-mode relay beside the paused connector; its repair is held off so the old row stays undelivered.
    const supervised = await debeziumRelay(['catalog'], { OUTBOX_REPAIR_AFTER_MS: 600_000 });
    try {
      const slot = { database: 'catalog', slot: CONNECTOR['slot.name']! };
      const exported = async () => ({
        paused: await metric(supervised, 'relay_connector_state', { database: 'catalog', connector: CONNECTOR.name, state: 'PAUSED' }),
        retained: await metric(supervised, 'relay_slot_retained_wal_bytes', slot),
        oldestS: await metric(supervised, 'relay_oldest_unconfirmed_age_seconds', { database: 'catalog' }),
        unconfirmed: await metric(supervised, 'relay_unconfirmed_rows', { database: 'catalog' }),
      });
      const first = await waitUntil(async () => ((await exported()).paused === 1 ? exported() : undefined), {
        timeoutMs: 15_000,
        what: 'the relay to export the paused connector',
      });
      expect(first.paused).toBe(1);
      expect(first.oldestS).toBeGreaterThanOrEqual(120);
      expect(first.unconfirmed).toBeGreaterThanOrEqual(1);

      const retained = async () => (await observeOutbox(catalogDb, connect, CONNECTOR)).slot!.retainedBytes;
      const before = await retained();
      await catalogDb('outbox').insert(Array.from({ length: 20 }, () => productRow()));
      const after = await retained();
      expect(after).toBeGreaterThan(before);
      const grown = await waitUntil(
        async () => {
          const m = await exported();
          return m.retained >= after && m.unconfirmed >= first.unconfirmed + 20 ? m : undefined;
        },
        { timeoutMs: 15_000, what: 'relay_slot_retained_wal_bytes and relay_unconfirmed_rows to grow' },
      );
      expect(grown.retained).toBeGreaterThan(first.retained);

      // The same figures, as Prometheus scrapes them from the relay's /metrics.
      const scraped = await (await fetch(`http://127.0.0.1:${supervised.port}/metrics`)).text();
      const series = (name: string, labels: string) => new RegExp(`^${name}\\{[^}]*${labels}[^}]*\\} (\\S+)$`, 'm').exec(scraped)?.[1];
      const slotLabels = `database="catalog",slot="${CONNECTOR['slot.name']}"`;
      expect(Number(series('relay_slot_retained_wal_bytes', slotLabels))).toBeGreaterThanOrEqual(after);
      expect(series('relay_slot_active', slotLabels)).toMatch(/^[01]$/);
      expect(series('relay_connector_state', `database="catalog",connector="${CONNECTOR.name}",state="PAUSED"`)).toBe('1');
      expect(Number(series('relay_oldest_unconfirmed_age_seconds', 'database="catalog"'))).toBeGreaterThanOrEqual(120);
    } finally {
      await supervised.stop();
    }
  }, 60_000);
});
