// The relay supervises its connector through Kafka Connect REST: a FAILED task is restarted with a
// doubling backoff, the state is a metric, /ready names the failure, and once the cause is gone the
// connector runs again with no step of the operator's. Meanwhile repair carries the events.
import { randomUUID } from 'node:crypto';
import { waitUntil } from '@qtshop/shared/platform';
import { traceparentFrom } from '@qtshop/shared/observability';
import { ConnectClient, registerConnector } from '@qtshop/shared/delivery';
import { readConnector } from '@qtshop/shared/tooling';
import { createProducts, infra, metric, openDb, REPAIR_AFTER_MS, startShop, waitInInventory, type Shop } from './support';

const inventoryDb = openDb('inventory');
const catalogDb = openDb('catalog');
const admin = openDb('postgres');
const connect = ConnectClient.of(infra.connect);
const CONNECTOR = readConnector('catalog-outbox');

let shop: Shop;

beforeAll(async () => {
  // The test reconfigures the connector through Connect REST on purpose: the relay must not put the file back.
  shop = await startShop('debezium', ['catalog'], { CONNECT_RESTART_BACKOFF_MS: 1000, CONNECT_RESTART_BACKOFF_MAX_MS: 4000, CONNECT_RESTORE_DRIFT: false });
}, 120_000);
afterAll(async () => {
  await shop.stop();
  await Promise.all([inventoryDb.destroy(), catalogDb.destroy(), admin.destroy()]);
});

const failedState = () => metric(shop.relay, 'relay_connector_state', { database: 'catalog', connector: CONNECTOR.name, state: 'FAILED' });
const restarts = () => metric(shop.relay, 'relay_connector_restarts_total', { database: 'catalog', connector: CONNECTOR.name });

describe('connector supervision', () => {
  it('restarts a failed task with backoff, reports it on /ready and in metrics, and the connector runs again once the cause is fixed', async () => {
    const before = await restarts();
    // A cause that outlives restarts: a connector file without errors.tolerance (as they were before) meets
    // a row the producer refuses; the task fails on it again after every restart.
    await connect.put(CONNECTOR.name, { ...CONNECTOR, 'errors.tolerance': 'none' });
    await waitUntil(() => connect.isRunning(CONNECTOR.name), { timeoutMs: 30_000, what: 'the reconfigured connector to run' });
    // The reconfigured task replaces the old one asynchronously (RUNNING may still be the old task, which
    // tolerates errors and would skip the row): a poison row every few seconds until the new task fails on one.
    const poisons: string[] = [];
    const insertPoison = async () => {
      const id = randomUUID();
      poisons.push(id);
      await catalogDb('outbox').insert({
        id,
        aggregatetype: 'product',
        aggregateid: id,
        type: 'ProductCreated',
        payload: JSON.stringify({ blob: 'x'.repeat(1_500_000) }),
        traceparent: traceparentFrom(),
      });
    };
    try {
      let lastPoisonAt = 0;
      await waitUntil(
        async () => {
          if ((await failedState()) === 1) return true;
          if (Date.now() - lastPoisonAt >= 5_000) {
            await insertPoison();
            lastPoisonAt = Date.now();
          }
          return false;
        },
        { timeoutMs: 90_000, everyMs: 200, what: 'the relay to see the connector FAILED' },
      );
      // /ready is red with the reason while the task is down (between restarts, which come further apart);
      // it is red all along for the drifted configuration, which it names too.
      const reason = await waitUntil(
        async () => {
          const res = await fetch(`http://127.0.0.1:${shop.relay.port}/ready`);
          const check = res.status === 503 ? ((await res.json()) as { checks: Record<string, string> }).checks['outbox:catalog'] : undefined;
          return check?.includes('FAILED') ? check : undefined;
        },
        { timeoutMs: 30_000, everyMs: 50, what: '/ready to answer 503 naming the failure' },
      );
      expect(reason).toMatch(/connector catalog-outbox FAILED \(task 0 failed: .+\)/);
      expect(reason).toMatch(/errors\.tolerance is "none" \(committed "all"\); not restored \(CONNECT_RESTORE_DRIFT=false\)/);
      // Restarted again and again, further apart each time (1 s, 2 s, 4 s, 4 s …): a few, not one per check
      // (every 500 ms). Some restarts may already be behind us, so the gaps between the next three are what
      // is measured: none under the first backoff, and after one restart at least the doubled one.
      const seenAt: number[] = [];
      let last = await restarts();
      await waitUntil(
        async () => {
          const now = await restarts();
          if (now > last) seenAt.push(Date.now());
          last = now;
          return seenAt.length >= 3;
        },
        { timeoutMs: 60_000, everyMs: 50, what: 'three more restarts' },
      );
      expect(last).toBeGreaterThanOrEqual(before + 3);
      const gaps = [seenAt[1]! - seenAt[0]!, seenAt[2]! - seenAt[1]!];
      expect(gaps[0]).toBeGreaterThanOrEqual(900);
      expect(gaps[1]).toBeGreaterThanOrEqual(1900);
      // Events still flow, through repair.
      const during = await createProducts(shop.catalog.url, 5, 1);
      await waitInInventory(inventoryDb, during, REPAIR_AFTER_MS + 20_000);
    } finally {
      await connect.put(CONNECTOR.name, CONNECTOR);
    }
    // The fixed connector skips the rows, and the relay quarantines them.
    await waitUntil(
      async () =>
        Number((await catalogDb('outbox').whereIn('id', poisons).whereNotNull('quarantined_at').count<{ n: string }[]>({ n: '*' }))[0]!.n) === poisons.length,
      {
        timeoutMs: REPAIR_AFTER_MS + 20_000,
        what: 'the poison rows to be quarantined',
      },
    );
    await catalogDb('outbox').whereIn('id', poisons).delete();
    // Fixed: the next restart brings it back, with no step of the operator's.
    await waitUntil(() => connect.isRunning(CONNECTOR.name), { timeoutMs: 60_000, what: 'the connector to run again' });
    await waitUntil(async () => (await failedState()) === 0, { timeoutMs: 20_000, what: 'the FAILED state to clear' });
    await registerConnector(connect, admin, CONNECTOR);
    await waitUntil(async () => (await fetch(`http://127.0.0.1:${shop.relay.port}/ready`)).status === 200, { timeoutMs: 30_000, what: '/ready to turn green' });
  }, 240_000);
});
