// Scenario "Placing order", end to end over HTTP with every service in-process and the real stack.
import { randomUUID } from 'node:crypto';
import { waitUntil } from '@qtshop/shared/platform';
import { createDb, loadInfra } from '@qtshop/shared/infra';
import { basketForTest, type BasketForTest } from '../support/basket';
import { useRelay, type RelayHandle, type RelayMode } from '../support/relay';
import { ADMIN, asAdmin as http, catalogForTest, inventoryForTest, orderCommandForTest, orderQueryForTest } from '../support/services';

type Svc = Awaited<ReturnType<typeof catalogForTest>>;
const ordersDb = createDb(loadInfra(), 'orders');
afterAll(() => ordersDb.destroy());

const modes: RelayMode[] = ['debezium', 'polling'];

describe.each(modes)('placing an order with the %s relay', (mode) => {
  let relay: RelayHandle;
  let catalog: Svc, inventory: Svc, orderCommand: Svc, orderQuery: Svc;
  let basket: BasketForTest;

  beforeAll(async () => {
    relay = await useRelay(mode, ['catalog', 'inventory', 'orders']);
    // One after the other, so that a failing start leaves the started ones assigned for afterAll to stop.
    catalog = await catalogForTest();
    inventory = await inventoryForTest();
    orderCommand = await orderCommandForTest();
    orderQuery = await orderQueryForTest();
    basket = await basketForTest();
  }, 120_000);
  afterAll(async () => {
    for (const s of [basket, orderQuery, orderCommand, inventory, catalog]) await s?.stop();
    await relay?.stop();
  }, 60_000);

  const wait = <T>(what: string, probe: () => Promise<T | undefined | false>) => waitUntil(probe, { timeoutMs: 30_000, what });

  /** A product with `stock` units, known to inventory and to order-command. */
  async function productWithStock(stock: number, price = 1999) {
    const fields = { name: `Vase ${randomUUID()}`, description: 'Glass', type: 'home', brand: 'Vitro', pictureUrl: '', price };
    const id: string = (await http('POST', `${catalog.url}/products`, fields, ADMIN)).json.id;
    await wait('inventory row', async () => (await http('GET', `${inventory.url}/inventory/${id}`)).status === 200);
    expect((await http('PUT', `${inventory.url}/inventory/${id}`, { quantity: stock }, ADMIN)).status).toBe(200);
    return { id, price };
  }

  /** POST /orders with an Idempotency-Key, retried while order-command has not yet seen the product. */
  async function placeOrder(basketId: string, items: Array<{ productId: string; price: number; quantity: number }>, key = randomUUID()) {
    return wait('order-command to accept the order', async () => {
      const res = await http('POST', `${orderCommand.url}/orders`, { basketId, items }, { 'idempotency-key': key });
      return res.json?.error?.code === 'product_not_found' ? undefined : res;
    });
  }

  const queryStatus = (orderId: string, status: string) =>
    wait(`order-query to show ${status}`, async () => {
      const res = await http('GET', `${orderQuery.url}/orders/${orderId}`);
      return res.json?.status === status ? res.json : undefined;
    });

  it('confirms an order with enough stock: basket gone, read model Confirmed, inventory and catalog decremented', async () => {
    const p = await productWithStock(5);
    const basketId = `b-${randomUUID()}`;
    await wait(
      'basket to accept the product',
      async () => (await http('PUT', `${basket.url}/baskets/${basketId}`, { items: [{ productId: p.id, quantity: 2 }] })).status === 201,
    );

    const placed = await placeOrder(basketId, [{ productId: p.id, price: p.price, quantity: 2 }]);
    expect(placed.status).toBe(201);
    expect(placed.json).toMatchObject({ status: 'Pending', basketId, total: 2 * p.price });
    const orderId: string = placed.json.orderId;

    await wait('basket to be deleted', async () => (await http('GET', `${basket.url}/baskets/${basketId}`)).status === 404);
    expect(await queryStatus(orderId, 'Confirmed')).toMatchObject({ basketId, total: 2 * p.price, items: [{ productId: p.id, price: p.price, quantity: 2 }] });
    await wait('inventory to show 3', async () => (await http('GET', `${inventory.url}/inventory/${p.id}`)).json.quantity === 3);
    await wait('catalog to show 3', async () => (await http('GET', `${catalog.url}/products/${p.id}`)).json.quantity === 3);
    await wait('order-command to show Confirmed', async () => (await http('GET', `${orderCommand.url}/orders/${orderId}`)).json.status === 'Confirmed');
    const events = (await http('GET', `${orderCommand.url}/orders/${orderId}/events`)).json.events;
    expect(events.map((e: { type: string; version: number }) => [e.version, e.type])).toEqual([
      [1, 'OrderPlaced'],
      [2, 'OrderConfirmed'],
    ]);
  }, 90_000);

  it('rejects an order for more than the stock, and the stock is unchanged', async () => {
    const p = await productWithStock(5);
    const placed = await placeOrder(`b-${randomUUID()}`, [{ productId: p.id, price: p.price, quantity: 6 }]);
    expect(placed.status).toBe(201);
    const rejected = await queryStatus(placed.json.orderId, 'Rejected');
    expect(rejected.reason).toMatch(/insufficient stock .* requested 6, available 5/);
    expect((await http('GET', `${inventory.url}/inventory/${p.id}`)).json.quantity).toBe(5);
    expect((await http('GET', `${orderCommand.url}/orders/${placed.json.orderId}`)).json).toMatchObject({ status: 'Rejected', reason: rejected.reason });
  }, 90_000);

  it('cancels a confirmed order of 3 (admin token): read model Cancelled, inventory and catalog back to the stock before it, once', async () => {
    const p = await productWithStock(10);
    const placed = await placeOrder(`b-${randomUUID()}`, [{ productId: p.id, price: p.price, quantity: 3 }]);
    const orderId: string = placed.json.orderId;
    await queryStatus(orderId, 'Confirmed');
    await wait('catalog to show 7', async () => (await http('GET', `${catalog.url}/products/${p.id}`)).json.quantity === 7);

    const cancelled = await http('POST', `${orderCommand.url}/orders/${orderId}/cancel`);
    expect(cancelled.status).toBe(200);
    expect(cancelled.json).toMatchObject({ status: 'Cancelled', version: 3 });
    expect((await http('POST', `${orderCommand.url}/orders/${orderId}/cancel`)).json).toMatchObject({ status: 'Cancelled', version: 3 });
    await queryStatus(orderId, 'Cancelled');
    await wait('inventory to show 10', async () => (await http('GET', `${inventory.url}/inventory/${p.id}`)).json.quantity === 10);
    await wait('catalog to show 10', async () => (await http('GET', `${catalog.url}/products/${p.id}`)).json.quantity === 10);
    // Released once: the decision is at version 2, and nothing more moves (a second release would show 13).
    const inventoryDb = createDb(loadInfra(), 'inventory');
    try {
      expect(await inventoryDb('stock_decisions').where({ order_id: orderId }).first('version', 'outcome')).toEqual({ version: 2, outcome: 'reserved' });
    } finally {
      await inventoryDb.destroy();
    }
    expect((await http('GET', `${inventory.url}/inventory/${p.id}`)).json.quantity).toBe(10);
  }, 90_000);

  if (mode === 'debezium') {
    it('lets exactly one of two orders racing for the last unit through, every time, and stock never goes below zero', async () => {
      const rounds = 10;
      const products = await Promise.all(Array.from({ length: rounds }, () => productWithStock(1)));
      // Make sure order-command knows every product before the race starts.
      for (const p of products) await placeOrder(`warmup-${randomUUID()}`, [{ productId: p.id, price: p.price, quantity: 2 }]);
      const racing = await Promise.all(
        products.flatMap((p) =>
          [1, 2].map(() =>
            http('POST', `${orderCommand.url}/orders`, { basketId: `b-${randomUUID()}`, items: [{ productId: p.id, price: p.price, quantity: 1 }] }),
          ),
        ),
      );
      expect(racing.every((r) => r.status === 201)).toBe(true);
      const outcomes = await Promise.all(
        racing.map((r) =>
          wait('an outcome', async () => {
            const s = (await http('GET', `${orderQuery.url}/orders/${r.json.orderId}`)).json?.status;
            return s === 'Confirmed' || s === 'Rejected' ? s : undefined;
          }),
        ),
      );
      for (let i = 0; i < rounds; i++) {
        expect([outcomes[2 * i], outcomes[2 * i + 1]].sort()).toEqual(['Confirmed', 'Rejected']);
        expect((await http('GET', `${inventory.url}/inventory/${products[i]!.id}`)).json.quantity).toBe(0);
      }
    }, 120_000);

    it('returns the same order for a retried POST with the same Idempotency-Key, and refuses the key with another body', async () => {
      const p = await productWithStock(5);
      const basketId = `b-${randomUUID()}`;
      const key = randomUUID();
      const first = await placeOrder(basketId, [{ productId: p.id, price: p.price, quantity: 1 }], key);
      const [second, third] = await Promise.all(
        [1, 2].map(() =>
          http('POST', `${orderCommand.url}/orders`, { basketId, items: [{ productId: p.id, price: p.price, quantity: 1 }] }, { 'idempotency-key': key }),
        ),
      );
      expect(first.status).toBe(201);
      for (const again of [second!, third!]) {
        expect(again.status).toBe(201);
        expect(again.headers.get('idempotent-replayed')).toBe('true');
        expect(again.json.orderId).toBe(first.json.orderId);
      }
      const placedForBasket = await ordersDb('order_events').where({ type: 'OrderPlaced' }).whereRaw("data->>'basketId' = ?", [basketId]);
      expect(placedForBasket).toHaveLength(1);
      const other = await http(
        'POST',
        `${orderCommand.url}/orders`,
        { basketId, items: [{ productId: p.id, price: p.price, quantity: 2 }] },
        { 'idempotency-key': key },
      );
      expect(other.status).toBe(422);
      expect(other.json.error.code).toBe('idempotency_key_reused');
    }, 60_000);

    it('places one order for concurrent first requests with the same Idempotency-Key; a refused one leaves the key free', async () => {
      const p = await productWithStock(5);
      const basketId = `b-${randomUUID()}`;
      const key = randomUUID();
      // Refused at a stale price: the claim of the key is rolled back with it. (Asked again while
      // order-command has not seen the product yet: inventory having it says nothing of order-command.)
      const refused = await wait('order-command to know the product', async () => {
        const res = await http(
          'POST',
          `${orderCommand.url}/orders`,
          { basketId, items: [{ productId: p.id, price: p.price + 1, quantity: 1 }] },
          { 'idempotency-key': key },
        );
        return res.json?.error?.code === 'product_not_found' ? undefined : res;
      });
      expect(refused.status).toBe(409);
      const racing = await Promise.all(
        [1, 2, 3, 4].map(() =>
          http('POST', `${orderCommand.url}/orders`, { basketId, items: [{ productId: p.id, price: p.price, quantity: 1 }] }, { 'idempotency-key': key }),
        ),
      );
      expect(racing.map((r) => r.status)).toEqual([201, 201, 201, 201]);
      expect(new Set(racing.map((r) => r.json.orderId)).size).toBe(1);
      expect(racing.filter((r) => r.headers.get('idempotent-replayed') === 'true')).toHaveLength(3);
      const placedForBasket = await ordersDb('order_events').where({ type: 'OrderPlaced' }).whereRaw("data->>'basketId' = ?", [basketId]);
      expect(placedForBasket).toHaveLength(1);
    }, 60_000);

    describe('POST /orders with bad input appends no event', () => {
      const count = async () => Number((await ordersDb('order_events').count<{ c: string }[]>({ c: '*' }))[0]!.c);
      it.each<[string, (p: { id: string; price: number }) => unknown, number, string]>([
        ['empty items', () => ({ basketId: 'b1', items: [] }), 400, 'validation_failed'],
        ['a zero quantity', (p) => ({ basketId: 'b1', items: [{ productId: p.id, price: p.price, quantity: 0 }] }), 400, 'validation_failed'],
        ['a negative quantity', (p) => ({ basketId: 'b1', items: [{ productId: p.id, price: p.price, quantity: -2 }] }), 400, 'validation_failed'],
        ['an unknown product', (p) => ({ basketId: 'b1', items: [{ productId: randomUUID(), price: p.price, quantity: 1 }] }), 404, 'product_not_found'],
        ['a stale price', (p) => ({ basketId: 'b1', items: [{ productId: p.id, price: p.price - 1, quantity: 1 }] }), 409, 'price_changed'],
        ['a missing basketId', (p) => ({ items: [{ productId: p.id, price: p.price, quantity: 1 }] }), 400, 'validation_failed'],
        ['a malformed body', () => '{"basketId": ', 400, 'invalid_json'],
      ])(
        'rejects %s',
        async (_what, body, status, code) => {
          const p = await productWithStock(1);
          // order-command has seen the product once this order is accepted; its stock outcome (rejected: 5 > 1)
          // is appended later, so the count is taken once the read model shows it.
          const warmup = await placeOrder(`warmup-${randomUUID()}`, [{ productId: p.id, price: p.price, quantity: 5 }]);
          await queryStatus(warmup.json.orderId, 'Rejected');
          const before = await count();
          const res = await http('POST', `${orderCommand.url}/orders`, body(p));
          expect(res.status).toBe(status);
          expect(res.json.error.code).toBe(code);
          expect(await count()).toBe(before);
        },
        60_000,
      );
    });
  }
});
