// A shopper orders from basket c at the revision they saw, and the basket changes before
// OrderPlaced reaches it (another tab, or OrderPlaced held up: the orders connector paused, the relay's
// repair publishing it later, a lagging consumer). Over HTTP with basket and order-command in-process:
// POST /orders carries basketRevision, order-command passes it on in OrderPlaced, and the basket takes out
// only the lines it held at that revision. OrderPlaced is delivered by producing the order's outbox row as
// the relays do (whatever relay runs beside the tests may deliver it too: the basket applies it once).
import { randomUUID } from 'node:crypto';
import type { Producer } from 'kafkajs';
import { createDb, createKafka, loadInfra, type Knex } from '@qtshop/shared/infra';
import type { EventPayload } from '@qtshop/shared/events';
import { applyProduct } from '../../services/basket/src/domain/basket';
import { basketForTest, publishOutboxRow, waitProcessed, type BasketForTest } from '../support/basket';
import { http, orderCommandForTest, shopper } from '../support/services';

type Svc = Awaited<ReturnType<typeof orderCommandForTest>>;
const infra = loadInfra();
let basket: BasketForTest;
let orderCommand: Svc;
let orders: Knex;
let producer: Producer;
const [mug, pot] = [randomUUID(), randomUUID()];
const PRICES = { [mug]: 1250, [pot]: 3400 };

beforeAll(async () => {
  [basket, orderCommand] = [await basketForTest(), await orderCommandForTest()];
  orders = createDb(infra, 'orders', { max: 2 });
  for (const [productId, price] of Object.entries(PRICES)) {
    await orders('product_prices').insert({ product_id: productId, price });
    await applyProduct(basket.db, {
      productId,
      name: `Product ${productId.slice(0, 4)}`,
      description: '',
      type: 'kitchen',
      brand: 'Acme',
      pictureUrl: '',
      price,
      version: 1,
    });
  }
  producer = createKafka(infra.kafka, 'test-basket-revision').producer({ idempotent: true });
  await producer.connect();
}, 120_000);
afterAll(async () => {
  await producer?.disconnect();
  await orders?.destroy();
  await Promise.all([basket?.stop(), orderCommand?.stop()]);
});

const basketUrl = (id: string) => `${basket.url}/baskets/${id}`;
const lines = (...l: Array<[string, number]>) => ({ items: l.map(([productId, quantity]) => ({ productId, quantity })) });
const orderOf = (basketId: string, l: Array<[string, number]>, basketRevision?: number) => ({
  basketId,
  items: l.map(([productId, quantity]) => ({ productId, price: PRICES[productId]!, quantity })),
  ...(basketRevision === undefined ? {} : { basketRevision }),
});

/** Produces the order's OrderPlaced outbox row as the relays do (event id and payload as order-command wrote them). */
async function relayOrderPlaced(orderId: string) {
  const row = await orders('outbox').where({ aggregateid: orderId, type: 'OrderPlaced' }).first();
  expect(row).toBeDefined();
  const payload = (typeof row.payload === 'string' ? JSON.parse(row.payload) : row.payload) as EventPayload<'OrderPlaced'>;
  const { id } = await publishOutboxRow(producer, { id: row.id, aggregatetype: 'order', aggregateid: orderId, type: 'OrderPlaced', payload });
  await waitProcessed(basket.db, id);
  return payload;
}

describe('ordering from a basket that changes before OrderPlaced reaches it', () => {
  it('keeps the product added after the order, and takes out what was ordered', async () => {
    const c = `c-${randomUUID()}`;
    const auth = await shopper(c);
    expect((await http('PUT', basketUrl(c), lines([mug, 2]), auth)).status).toBe(201);
    const seen = await http('GET', basketUrl(c), undefined, auth);
    expect(seen.json).toMatchObject({ items: [{ productId: mug, quantity: 2 }] });

    const placed = await http('POST', `${orderCommand.url}/orders`, orderOf(c, [[mug, 2]], seen.json.revision), auth);
    expect(placed.status).toBe(201);
    const changed = await http('PUT', basketUrl(c), lines([mug, 2], [pot, 1]), auth); // before OrderPlaced arrives
    const relayed = await relayOrderPlaced(placed.json.orderId);

    const after = await http('GET', basketUrl(c), undefined, auth);
    expect(after.status).toBe(200);
    expect(after.json).toMatchObject({ items: [{ productId: pot, quantity: 1 }], total: 3400 });
    expect([seen.json.revision, changed.json.revision, after.json.revision]).toEqual([1, 2, 3]);
    expect(relayed).toMatchObject({ basketId: c, basketRevision: 1, version: 1 });
    const events = (await http('GET', `${orderCommand.url}/orders/${placed.json.orderId}/events`, undefined, auth)).json.events;
    expect(events[0]).toMatchObject({ type: 'OrderPlaced', data: { basketRevision: 1 } });
  }, 90_000);

  it('deletes the basket when it is still at the revision the order was placed from', async () => {
    const c = `c-${randomUUID()}`;
    const auth = await shopper(c);
    const { revision } = (await http('PUT', basketUrl(c), lines([mug, 1], [pot, 1]), auth)).json;
    const placed = await http(
      'POST',
      `${orderCommand.url}/orders`,
      orderOf(
        c,
        [
          [mug, 1],
          [pot, 1],
        ],
        revision,
      ),
      auth,
    );
    expect(placed.status).toBe(201);
    await relayOrderPlaced(placed.json.orderId);
    expect((await http('GET', basketUrl(c), undefined, auth)).status).toBe(404);
  }, 90_000);

  it('without basketRevision: OrderPlaced carries none, and only the lines equal to an ordered line leave the basket', async () => {
    const c = `c-${randomUUID()}`;
    const auth = await shopper(c);
    await http('PUT', basketUrl(c), lines([mug, 2]), auth);
    const placed = await http('POST', `${orderCommand.url}/orders`, orderOf(c, [[mug, 2]]), auth);
    expect(placed.status).toBe(201);
    await http('PUT', basketUrl(c), lines([mug, 2], [pot, 1]), auth);
    expect(await relayOrderPlaced(placed.json.orderId)).not.toHaveProperty('basketRevision');
    expect((await http('GET', basketUrl(c), undefined, auth)).json).toMatchObject({ items: [{ productId: pot, quantity: 1 }] });
  }, 90_000);

  it('refuses a basketRevision that is not a whole number from 1 with 400, and places nothing', async () => {
    const c = `c-${randomUUID()}`;
    const auth = await shopper(c);
    for (const basketRevision of [0, -1, 1.5, '2']) {
      const res = await http('POST', `${orderCommand.url}/orders`, { ...orderOf(c, [[mug, 1]]), basketRevision }, auth);
      expect(res.status).toBe(400);
      expect(res.json.error.fields.map((f: { path: string }) => f.path)).toEqual(['basketRevision']);
    }
    expect(await orders('order_events').whereRaw(`data->>'basketId' = ?`, [c]).count<{ n: string }[]>({ n: '*' })).toEqual([{ n: '0' }]);
  }, 90_000);
});
