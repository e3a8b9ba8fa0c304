// A connector changed through Connect REST (PUT /connectors/<name>/config) runs a configuration its
// committed file does not have: the relay reports the drift (metric, /ready naming each key, npm run
// status) and, unless CONNECT_RESTORE_DRIFT=false, puts the file back. The reproduction: a drifted
// route.topic.replacement sends each event to another outbox topic while the connector says RUNNING.
// A connector of the test's own on a scratch outbox database, so the shop's connectors are left alone.
import { waitUntil } from '@qtshop/shared/platform';
import { createKafka } from '@qtshop/shared/infra';
import { ConnectClient, observeDrift, observeOutbox, registerConnector, removeConnector, type ConnectorConfig } from '@qtshop/shared/delivery';
import { createOutboxPublication, judgeOutbox, outboxPublicationOf, readConnector } from '@qtshop/shared/tooling';
import type { RelayConfig } from '../../services/relay/src/config';
import type { Relay } from '../../services/relay/src/relay';
import { TopicReader } from '../support/kafka';
import { insertRows, rows, scratchDatabase, suffix, type Scratch, type TestRow } from '../relay/scratch';
import { debeziumRelay, infra, keptLog, metric, openDb, readyCheck } from './support';

const connect = ConnectClient.of(infra.connect);
const kafka = createKafka(infra.kafka, 'test-connector-drift');
const admin = openDb('postgres');
const REPAIR_AFTER_MS = 8000;
const ROUTE = 'transforms.outbox.route.topic.replacement';

const id = suffix();
const aggregatetype = `drift${id}`;
const own = `qtshop.${aggregatetype}`;
const elsewhere = `qtshop.drifted${id}`;
let scratch: Scratch;
let CONNECTOR: ConnectorConfig;
const drifted = () => ({ ...CONNECTOR, [ROUTE]: elsewhere });

beforeAll(async () => {
  scratch = await scratchDatabase();
  await createOutboxPublication(scratch.db);
  CONNECTOR = {
    ...readConnector('catalog-outbox'),
    name: `drift-${id}`,
    'database.dbname': scratch.name,
    'slot.name': `drift_${id}`,
    'publication.name': outboxPublicationOf(scratch.name),
    'topic.prefix': `drift-${id}`,
  };
  await registerConnector(connect, admin, CONNECTOR);
}, 120_000);
afterAll(async () => {
  await removeConnector(connect, admin, CONNECTOR);
  await scratch.drop();
  await admin.destroy();
}, 120_000);

let relay: Relay | undefined;
afterEach(async () => {
  await relay?.stop();
  relay = undefined;
});

async function start(overrides: Partial<RelayConfig>, lines: Array<Record<string, unknown>> = []): Promise<Relay> {
  relay = await debeziumRelay(
    [scratch.name],
    {
      OUTBOX_REPAIR_AFTER_MS: REPAIR_AFTER_MS,
      RELAY_CONFIRM_GROUP: `qtshop-relay-confirm-test-${suffix()}`,
      RELAY_CONFIRM_TOPICS: [own, elsewhere],
      RELAY_CONFIRM_MIN_BYTES: 1,
      RELAY_CONFIRM_MAX_WAIT_MS: 100,
      ...overrides,
    },
    { connectors: new Map([[scratch.name, CONNECTOR]]), log: keptLog(lines) },
  );
  return relay;
}

const labels = () => ({ database: scratch.name, connector: CONNECTOR.name });
const rowOf = async (r: TestRow) =>
  (await scratch.db('outbox').where({ id: r.id }).first('created_at', 'sent_at', 'seen_at', 'misrouted_at')) as {
    created_at: Date;
    sent_at: Date | null;
    seen_at: Date | null;
    misrouted_at: Date | null;
  };

/** Writes rows one at a time until one is seen as `until` says: the task restarted by a PUT takes a while to apply it. */
async function writeUntil(until: (row: Awaited<ReturnType<typeof rowOf>>) => boolean, what: string): Promise<TestRow> {
  return waitUntil(
    async () => {
      const [r] = rows(aggregatetype, 1, [`a-${suffix()}`]) as [TestRow];
      await insertRows(scratch.db, [r]);
      const seen = await waitUntil(
        async () => {
          const row = await rowOf(r);
          return row.seen_at || row.misrouted_at ? row : undefined;
        },
        { timeoutMs: REPAIR_AFTER_MS - 1000, everyMs: 100, what: 'the row to be seen on Kafka' },
      ).catch(() => undefined);
      return seen && until(seen) ? r : undefined;
    },
    { timeoutMs: 60_000, everyMs: 0, what },
  );
}

describe('connector configuration drift', () => {
  it('sees none on a freshly registered connector: Connect answers the file plus the name it adds', async () => {
    expect(await connect.config(CONNECTOR.name)).toEqual(CONNECTOR);
    expect(await observeDrift(connect, CONNECTOR)).toEqual([]);
    const r = await start({});
    await waitUntil(async () => (await readyCheck(r, `outbox:${scratch.name}`)).status === 200, { timeoutMs: 15_000, what: '/ready to be green' });
    const drift = await waitUntil(
      async () => {
        const { values } = await r.registry.getSingleMetric('relay_connector_config_drift')!.get();
        return values.length > 0 ? values : undefined;
      },
      { timeoutMs: 10_000, what: 'the supervisor to export the drift gauge' },
    );
    expect(drift).toEqual([{ labels: labels(), value: 0 }]);
    expect(await metric(r, 'relay_connector_config_restores_total', labels())).toBe(0);
  }, 60_000);

  it('with CONNECT_RESTORE_DRIFT=false, reports a drifted route (metric, /ready, status) and leaves it; its misrouted records confirm nothing and are repaired', async () => {
    const r = await start({ CONNECT_RESTORE_DRIFT: false });
    await connect.put(CONNECTOR.name, drifted());
    try {
      await waitUntil(async () => (await metric(r, 'relay_connector_config_drift', labels())) === 1, { timeoutMs: 10_000, what: 'the drift gauge to be 1' });
      const red = await readyCheck(r, `outbox:${scratch.name}`);
      expect(red.status).toBe(503);
      expect(red.check).toContain(
        `connector ${CONNECTOR.name}'s configuration differs from connect-config/${CONNECTOR.name}.json: ${ROUTE} is "${elsewhere}" (committed "qtshop.\${routedByValue}"); not restored (CONNECT_RESTORE_DRIFT=false)`,
      );
      // npm run status judges the same observation: a failure naming the key.
      const judged = judgeOutbox(await observeOutbox(scratch.db, connect, CONNECTOR), 'debezium', { repairAfterMs: REPAIR_AFTER_MS, readyMaxAgeMs: 60_000 });
      expect(judged.level).toBe('bad');
      expect(judged.problems).toContainEqual(['bad', expect.stringContaining(`${ROUTE} is "${elsewhere}"`)]);

      // Debezium now writes each row's record to the other topic: the row stays unconfirmed, and is repaired.
      const reader = await TopicReader.start(kafka, [own]);
      try {
        const misrouted = await writeUntil((row) => row.misrouted_at !== null, 'a row whose record Debezium wrote to the drifted topic');
        expect(await rowOf(misrouted)).toMatchObject({ sent_at: null, seen_at: null });
        expect(await metric(r, 'relay_misrouted_records_total', { database: scratch.name, topic: elsewhere })).toBeGreaterThanOrEqual(1);
        expect((await readyCheck(r, `outbox:${scratch.name}`)).check).toMatch(/undelivered outbox row\(s\) had their record seen on a wrong topic/);
        await reader.waitFor((got) => got.headers.id === misrouted.id && got.key === misrouted.aggregateid, 1, REPAIR_AFTER_MS + 20_000);
        await waitUntil(async () => !(await readyCheck(r, `outbox:${scratch.name}`)).check?.includes('wrong topic'), {
          timeoutMs: 10_000,
          what: 'the misrouted rows to leave /ready once repaired',
        });
      } finally {
        await reader.stop();
      }
      // Still drifted: nothing put it back.
      expect((await connect.config(CONNECTOR.name))[ROUTE]).toBe(elsewhere);
      expect(await metric(r, 'relay_connector_config_restores_total', labels())).toBe(0);
      expect(await metric(r, 'relay_connector_config_drift', labels())).toBe(1);
    } finally {
      await connect.put(CONNECTOR.name, CONNECTOR);
    }
  }, 120_000);

  it('by default puts the committed file back within a few supervise intervals, counts and logs it, and Debezium delivers to the right topic again', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const r = await start({}, lines);
    await waitUntil(async () => (await readyCheck(r, `outbox:${scratch.name}`)).status === 200, { timeoutMs: 30_000, what: '/ready to be green' });
    await connect.put(CONNECTOR.name, { ...drifted(), 'max.batch.size': '100' });
    const putAt = Date.now();
    await waitUntil(async () => (await observeDrift(connect, CONNECTOR))?.length === 0, {
      timeoutMs: 10_000,
      everyMs: 100,
      what: 'the committed file to be back',
    });
    // RELAY_SUPERVISE_INTERVAL_MS is 500: a few intervals, not a wait for something else.
    expect(Date.now() - putAt).toBeLessThan(5000);
    expect(await connect.config(CONNECTOR.name)).toEqual(CONNECTOR);
    expect(await metric(r, 'relay_connector_config_restores_total', labels())).toBe(1);
    expect(lines.find((l) => l.connector === CONNECTOR.name && typeof l.msg === 'string' && l.msg.includes('putting the committed one back'))).toMatchObject({
      level: 40,
      drift: [
        { key: 'max.batch.size', running: '100', committed: '1' },
        { key: ROUTE, running: elsewhere, committed: 'qtshop.${routedByValue}' },
      ],
    });
    await waitUntil(async () => (await metric(r, 'relay_connector_config_drift', labels())) === 0, { timeoutMs: 5000, what: 'the drift gauge to be 0 again' });
    // A row written now is seen on its own topic well before the repair could have published it.
    const row = await writeUntil(
      (seen) => seen.seen_at !== null && seen.seen_at.getTime() - seen.created_at.getTime() < REPAIR_AFTER_MS / 2,
      'Debezium to deliver to the right topic',
    );
    expect((await rowOf(row)).misrouted_at).toBeNull();
    await waitUntil(async () => (await readyCheck(r, `outbox:${scratch.name}`)).status === 200, { timeoutMs: 30_000, what: '/ready to turn green' });
  }, 120_000);
});
