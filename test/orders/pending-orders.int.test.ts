// The orders waiting for their stock decision: order-command's orders_pending and
// orders_oldest_pending_age_seconds on /metrics, and the table behind them (pending_orders, kept by a
// trigger on order_events), against a scratch orders database whose outbox nobody relays, so that no
// stock decision can arrive unless the test appends it.
import { randomUUID } from 'node:crypto';
import { waitUntil } from '@qtshop/shared/platform';
import { inTransaction } from '@qtshop/shared/infra';
import { createOutboxWriter } from '@qtshop/shared/outbox';
import { migrateLatest, type Migration } from '@qtshop/shared/tooling';
import { MIGRATIONS } from '../../migrations';
import { execute } from '../../services/order-command/src/domain/use-cases';
import { appendEvents } from '../../services/order-command/src/store';
import { scratchDb, type ScratchDb } from '../support/scratch';
import { asAdmin, orderCommandOnScratch } from '../support/services';

const outbox = createOutboxWriter();

describe('order-command /metrics: orders waiting for their stock decision', () => {
  let shop: Awaited<ReturnType<typeof orderCommandOnScratch>>;
  let scratch: ScratchDb;
  let url: string;

  beforeAll(async () => {
    shop = await orderCommandOnScratch('pending_orders');
    ({ scratch, url } = shop);
  }, 60_000);
  afterAll(() => shop?.stop(), 60_000);

  async function scrape(): Promise<{ pending: number; oldestS: number }> {
    const text = await (await fetch(`${url}/metrics`)).text();
    const value = (name: string) => Number(new RegExp(`^${name}\\{[^}]*\\} (\\S+)$`, 'm').exec(text)?.[1]);
    return { pending: value('orders_pending'), oldestS: value('orders_oldest_pending_age_seconds') };
  }

  async function placeOrder(): Promise<string> {
    const productId = randomUUID();
    await scratch.db('product_prices').insert({ product_id: productId, price: 1500, product_version: 1 });
    const res = await asAdmin('POST', `${url}/orders`, { basketId: `b-${randomUUID()}`, items: [{ productId, price: 1500, quantity: 1 }] });
    expect(res.status).toBe(201);
    expect(res.json.status).toBe('Pending');
    return res.json.orderId as string;
  }

  it('exports 0 pending, the oldest 0 s old, while nothing waits', async () => {
    expect(await scrape()).toEqual({ pending: 0, oldestS: 0 });
  });

  it('counts an order whose decision cannot arrive, its age growing, and the oldest of two; both back to 0 once decided', async () => {
    const first = await placeOrder();
    const before = await scrape();
    expect(before.pending).toBe(1);
    const grown = await waitUntil(
      async () => {
        const m = await scrape();
        return m.oldestS >= before.oldestS + 1 ? m : undefined;
      },
      { timeoutMs: 10_000, what: 'orders_oldest_pending_age_seconds to grow by a second' },
    );
    expect(grown.pending).toBe(1);

    const second = await placeOrder();
    const both = await scrape();
    expect(both.pending).toBe(2);
    expect(both.oldestS).toBeGreaterThanOrEqual(grown.oldestS); // the first's age, not the second's

    // What the consumer does with OrderStockReserved and OrderStockRejected.
    await inTransaction(scratch.db, (trx) => execute(trx, outbox, { type: 'ConfirmOrder', orderId: first }));
    const left = await scrape();
    expect(left.pending).toBe(1);
    expect(left.oldestS).toBeLessThan(both.oldestS); // the second is the oldest now
    await inTransaction(scratch.db, (trx) => execute(trx, outbox, { type: 'RejectOrder', orderId: second, reason: 'out of stock' }));
    expect(await scrape()).toEqual({ pending: 0, oldestS: 0 });
  }, 30_000);

  it('exports NaN rather than a stale number when the query fails, and the rest of /metrics still answers', async () => {
    await scratch.db.raw('alter table pending_orders rename to pending_orders_away');
    try {
      const res = await fetch(`${url}/metrics`);
      expect(res.status).toBe(200);
      const text = await res.text();
      expect(text).toMatch(/^orders_pending\{[^}]*\} nan$/im); // prom-client writes NaN as "Nan", which Prometheus parses
      expect(text).toMatch(/^orders_oldest_pending_age_seconds\{[^}]*\} nan$/im);
      expect(text).toMatch(/^http_request_duration_seconds_count/m);
    } finally {
      await scratch.db.raw('alter table pending_orders_away rename to pending_orders');
    }
    expect(await scrape()).toEqual({ pending: 0, oldestS: 0 });
  });
});

describe('migration 007_pending_orders', () => {
  let scratch: ScratchDb;
  beforeAll(async () => {
    scratch = await scratchDb('migr_pending_orders');
  });
  afterAll(() => scratch?.drop());

  const placed = (orderId: string) => ({
    type: 'OrderPlaced',
    data: { orderId, basketId: 'b', items: [{ productId: randomUUID(), price: 100, quantity: 1 }], total: 100 },
  });

  it('takes over the orders already waiting, at the time they were placed, and not the decided ones', async () => {
    const list: Migration[] = MIGRATIONS.orders;
    await migrateLatest(
      scratch.db,
      list.slice(
        0,
        list.findIndex((m) => m.name === '007_pending_orders'),
      ),
    );
    const [waiting, confirmed, rejected] = [randomUUID(), randomUUID(), randomUUID()];
    await scratch.db.transaction(async (trx) => {
      for (const id of [waiting, confirmed, rejected]) await appendEvents(trx, id, 0, [placed(id)]);
      await appendEvents(trx, confirmed, 1, [{ type: 'OrderConfirmed', data: { orderId: confirmed } }]);
      await appendEvents(trx, rejected, 1, [{ type: 'OrderRejected', data: { orderId: rejected } }]);
    });
    await scratch
      .db('order_events')
      .where({ order_id: waiting })
      .update({ occurred_at: scratch.db.raw(`now() - interval '5 minutes'`) });

    await migrateLatest(scratch.db, list);
    const rows = await scratch.db('pending_orders').select('order_id', scratch.db.raw('extract(epoch from now() - placed_at)::float8 as age'));
    expect(rows.map((r) => r.order_id)).toEqual([waiting]);
    expect(rows[0].age).toBeGreaterThanOrEqual(300);
  });
});
