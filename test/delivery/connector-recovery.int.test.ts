// The connector's failures that used to lose or stall events, on the real stack in debezium mode:
// - deleted and registered again (the documentation's old recovery) while products are written: none is lost;
// - Kafka Connect down for longer than the repair threshold: events keep flowing through the relay's
//   repair, and once Connect is back Debezium carries the traffic again and repairs stop.
import { resolve } from 'node:path';
import { waitUntil } from '@qtshop/shared/platform';
import { ConnectClient, registerConnector } from '@qtshop/shared/delivery';
import { readConnector } from '@qtshop/shared/tooling';
import { loadStackConfig } from '../../stack/config';
import { livePid, stopPid } from '../../stack/procs';
import { cli, createProducts, debeziumDelivers, infra, metric, openDb, REPAIR_AFTER_MS, startShop, waitInInventory, type Shop } from './support';

const catalogDb = openDb('catalog');
const inventoryDb = openDb('inventory');
const connect = ConnectClient.of(infra.connect);
const CONNECTOR = readConnector('catalog-outbox');

let shop: Shop;

beforeAll(async () => {
  shop = await startShop('debezium', ['catalog']);
}, 120_000);
afterAll(async () => {
  await shop.stop();
  await catalogDb.destroy();
  await inventoryDb.destroy();
});

const repaired = () => metric(shop.relay, 'relay_repaired_total', { database: 'catalog' });
const duplicates = () => metric(shop.relay, 'relay_duplicate_records_total', { database: 'catalog' });

describe('debezium mode, delivery under connector failures', () => {
  it('loses nothing when the connector is deleted and registered again while 300 products are written, 20 of them while it is gone', async () => {
    const before = await repaired();
    let recovery: Promise<string[]> | undefined;
    const ids = await createProducts(shop.catalog.url, 300, 6, (done) => {
      if (done !== 30) return;
      recovery = (async () => {
        const deleted = await cli('scripts/connect.ts', ['delete', CONNECTOR.name]);
        expect(deleted.code).toBe(0);
        // Written while no connector and no slot exist, whether or not the concurrent writers are still
        // going (they may finish before the CLI has started): only the repair can deliver these.
        const inGap = await createProducts(shop.catalog.url, 20, 2);
        const registered = await cli('scripts/connect.ts', ['register', CONNECTOR.name]);
        expect(registered.code).toBe(0);
        return inGap;
      })();
    });
    ids.push(...((await recovery) ?? []));
    await waitInInventory(inventoryDb, ids, REPAIR_AFTER_MS + 60_000);
    // The rows written while no connector existed reached Kafka through the repair.
    expect(await repaired()).toBeGreaterThan(before);
    expect(await catalogDb('outbox').whereIn('aggregateid', ids).whereNull('sent_at').count({ n: '*' })).toEqual([{ n: '0' }]);
    await debeziumDelivers(shop.catalog.url, catalogDb);
  }, 180_000);

  it('keeps delivering while Kafka Connect is down longer than the repair threshold, and Debezium takes over again when it returns', async () => {
    const stack = loadStackConfig();
    const pidFile = resolve(stack.paths.run, 'connect.pid');
    const pid = livePid(pidFile, 'ConnectDistributed');
    expect(pid).toBeDefined();
    await stopPid(pid!, 'SIGTERM', 60_000);
    let back = false;
    try {
      const before = await repaired();
      const duplicatesBefore = await duplicates();
      const first = await createProducts(shop.catalog.url, 20, 2);
      await waitInInventory(inventoryDb, first, REPAIR_AFTER_MS + 20_000);
      // Down for longer than the threshold, still writing: these arrive too.
      const second = await createProducts(shop.catalog.url, 20, 2);
      await waitInInventory(inventoryDb, second, REPAIR_AFTER_MS + 20_000);
      expect(await repaired()).toBeGreaterThanOrEqual(before + 40);
      const ready = (await (await fetch(`http://127.0.0.1:${shop.relay.port}/ready`)).json()) as { checks: Record<string, string> };
      expect(ready.checks['outbox:catalog']).toMatch(/Kafka Connect is unreachable/);

      const up = await cli('stack/cli.ts', ['up']);
      expect(up.code).toBe(0);
      back = true;
      await waitUntil(() => connect.isRunning(CONNECTOR.name), { timeoutMs: 60_000, what: 'the connector to run again' });
      await debeziumDelivers(shop.catalog.url, catalogDb);
      // Debezium streams from where it stopped, so the 40 repaired rows reach the topic a second time: the
      // confirmer counts them as duplicates (harmless: consumers drop them by event id).
      await waitUntil(async () => (await duplicates()) >= duplicatesBefore + 40, {
        timeoutMs: 30_000,
        what: 'relay_duplicate_records_total to count the rows both the repair and Debezium delivered',
      });
      // Repairs have stopped: the next products are confirmed from Debezium's records, none repaired.
      const settled = await repaired();
      const third = await createProducts(shop.catalog.url, 10, 2);
      await waitInInventory(inventoryDb, third, 20_000);
      await waitUntil(
        async () => Number((await catalogDb('outbox').whereIn('aggregateid', third).whereNull('seen_at').count<Array<{ n: string }>>({ n: '*' }))[0]!.n) === 0,
        {
          timeoutMs: 20_000,
          what: 'the new rows to be seen on Kafka',
        },
      );
      expect(await repaired()).toBe(settled);
    } finally {
      if (!back) await cli('stack/cli.ts', ['up']);
      await registerConnector(connect, catalogDb, CONNECTOR);
    }
  }, 240_000);
});
