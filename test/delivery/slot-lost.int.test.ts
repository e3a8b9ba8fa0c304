// A replication slot PostgreSQL invalidates because it held back more WAL than max_slot_wal_keep_size
// (what protects the disk when a connector stays down): the relay re-creates the connector with a new
// slot and its repair publishes the gap. Nothing is lost.
//
// Lowering the bound can invalidate any slot that lags at that moment, not only the stopped one, so the
// relay here serves (and re-creates as needed) all three outbox databases' connectors, and the test ends
// only when every one of them streams again from a healthy slot.
import { waitUntil } from '@qtshop/shared/platform';
import { ConnectClient } from '@qtshop/shared/delivery';
import { readConnector } from '@qtshop/shared/tooling';
import { createProducts, debeziumDelivers, infra, metric, openDb, REPAIR_AFTER_MS, startShop, waitInInventory, type Shop } from './support';

const admin = openDb('postgres');
const catalogDb = openDb('catalog');
const inventoryDb = openDb('inventory');
const connect = ConnectClient.of(infra.connect);
const CONNECTOR = readConnector('catalog-outbox');
const SLOT = CONNECTOR['slot.name']!;
const ALL = ['catalog', 'inventory', 'orders'] as const;

let shop: Shop;

beforeAll(async () => {
  shop = await startShop('debezium', [...ALL]);
}, 120_000);
afterAll(async () => {
  await shop.stop();
  await Promise.all([admin.destroy(), catalogDb.destroy(), inventoryDb.destroy()]);
});

const slot = async () =>
  (await admin('pg_replication_slots').where({ slot_name: SLOT }).first('active', 'wal_status', 'restart_lsn')) as
    { active: boolean; wal_status: string } | undefined;

describe('a replication slot invalidated past max_slot_wal_keep_size', () => {
  it('is replaced by a re-created connector, and every event written meanwhile is delivered', async () => {
    const recreatedBefore = await metric(shop.relay, 'relay_connector_recreated_total', { database: 'catalog', connector: CONNECTOR.name });
    // A connector that stays down: its tasks shut down, the slot is left behind, inactive.
    await connect.stop(CONNECTOR.name);
    await waitUntil(async () => (await slot())?.active === false, { timeoutMs: 30_000, what: 'the slot to be released' });
    await admin.raw("alter system set max_slot_wal_keep_size = '32MB'");
    await admin.raw('select pg_reload_conf()');
    try {
      const during = await createProducts(shop.catalog.url, 20, 2);
      // More WAL than the bound: five new 16 MB segments, then a checkpoint, which invalidates the slot.
      await admin.raw('create table if not exists qtshop_wal_filler (x text)');
      for (let i = 0; i < 5; i++) {
        await admin.raw("insert into qtshop_wal_filler values (repeat('x', 1000))");
        await admin.raw('select pg_switch_wal()');
      }
      await admin.raw('checkpoint');
      // The relay sees wal_status = lost, deletes the connector (dropping the dead slot) and registers it afresh.
      await waitUntil(
        async () => (await metric(shop.relay, 'relay_connector_recreated_total', { database: 'catalog', connector: CONNECTOR.name })) > recreatedBefore,
        {
          timeoutMs: 90_000,
          what: 'the relay to re-create the connector',
        },
      );
      await waitUntil(() => connect.isRunning(CONNECTOR.name), { timeoutMs: 60_000, what: 'the re-created connector to run' });
      expect((await slot())?.wal_status).not.toBe('lost');
      await waitInInventory(inventoryDb, during, REPAIR_AFTER_MS + 30_000);

      // The new slot streams: fresh rows are seen on Kafka well before repair could have published them.
      await debeziumDelivers(shop.catalog.url, catalogDb);
    } finally {
      await admin.raw('alter system reset max_slot_wal_keep_size');
      await admin.raw('select pg_reload_conf()');
      await admin.raw('drop table if exists qtshop_wal_filler');
    }
    // Every connector streams again from a slot that is not lost (the relay re-created any that was).
    for (const db of ALL) {
      const cfg = readConnector(`${db}-outbox`);
      await waitUntil(
        async () => {
          const s = (await admin('pg_replication_slots').where({ slot_name: cfg['slot.name'] }).first('active', 'wal_status')) as
            { active: boolean; wal_status: string } | undefined;
          return s?.active === true && s.wal_status !== 'lost' && (await connect.isRunning(cfg.name));
        },
        { timeoutMs: 90_000, what: `connector ${cfg.name} to stream from a healthy slot` },
      );
    }
  }, 240_000);
});
