// The basket consumer against real Kafka and the MongoDB-wire server, fed the exact records the outbox
// relays produce (outboxRecord): ProductCreated/ProductUpdated from the catalog's outbox, OrderPlaced
// from the orders outbox (the order service does not exist yet). The Debezium path is covered in
// product-updates.int.test.ts.
import { randomUUID } from 'node:crypto';
import { waitUntil } from '@qtshop/shared/platform';
import { createKafka, loadInfra } from '@qtshop/shared/infra';
import type { EventPayload } from '@qtshop/shared/events';
import { listDeadLetters } from '@qtshop/shared/tooling';
import { basketForTest, publishOutboxRow, waitConsumed, waitProcessed, type BasketForTest } from '../support/basket';
import { asAdmin as http } from '../support/services';

const kafka = createKafka(loadInfra().kafka, 'test-basket-events');
const producer = kafka.producer({ idempotent: true });
let svc: BasketForTest;

beforeAll(async () => {
  svc = await basketForTest();
  await producer.connect();
}, 60_000);
afterAll(async () => {
  await producer.disconnect();
  await svc?.stop();
});

const product = (over: Partial<EventPayload<'ProductCreated'>> = {}): EventPayload<'ProductCreated'> => ({
  productId: randomUUID(),
  name: `Bowl ${randomUUID().slice(0, 8)}`,
  description: 'Porcelain',
  type: 'kitchen',
  brand: 'Acme',
  pictureUrl: 'https://img.example/bowl.png',
  price: 900,
  version: 1,
  ...over,
});
const productEvent = (type: 'ProductCreated' | 'ProductUpdated', payload: EventPayload<'ProductCreated'>, id?: string) =>
  publishOutboxRow(producer, { ...(id ? { id } : {}), aggregatetype: 'product', aggregateid: payload.productId, type, payload });
const orderPlaced = (orderId: string, basketId: string, productId: string, id?: string) =>
  publishOutboxRow(producer, {
    ...(id ? { id } : {}),
    aggregatetype: 'order',
    aggregateid: orderId,
    type: 'OrderPlaced',
    payload: { orderId, basketId, items: [{ productId, price: 900, quantity: 1 }], total: 900, version: 1 },
  });

const url = (basketId: string) => `${svc.url}/baskets/${basketId}`;
const getBasket = async (basketId: string) => (await http('GET', url(basketId))).json;

async function createdProduct(over: Partial<EventPayload<'ProductCreated'>> = {}) {
  const p = product(over);
  await waitProcessed(svc.db, (await productEvent('ProductCreated', p)).id);
  return p;
}
async function basketWith(productId: string, quantity = 1, basketId = randomUUID()) {
  const res = await http('PUT', url(basketId), { items: [{ productId, quantity }] });
  expect(res.status).toBeLessThan(300);
  return basketId;
}

describe('ProductCreated', () => {
  it('fills the product cache, after which the product can go into a basket', async () => {
    const p = product();
    expect((await http('PUT', url(randomUUID()), { items: [{ productId: p.productId, quantity: 1 }] })).status).toBe(404);
    await waitProcessed(svc.db, (await productEvent('ProductCreated', p)).id);
    const res = await http('PUT', url(randomUUID()), { items: [{ productId: p.productId, quantity: 2 }] });
    expect(res.status).toBe(201);
    expect(res.json.items).toEqual([{ productId: p.productId, name: p.name, price: p.price, quantity: 2 }]);
  }, 60_000);
});

describe('ProductUpdated', () => {
  it('sets name and price in the product cache and in every basket holding the product', async () => {
    const p = await createdProduct();
    const other = await createdProduct();
    const [b1, b2] = [await basketWith(p.productId, 2), await basketWith(p.productId, 1)];
    const b3 = await basketWith(other.productId);
    const untouched = await getBasket(b3);

    await waitProcessed(svc.db, (await productEvent('ProductUpdated', { ...p, name: 'Bowl XL', price: 1500, version: 2 })).id);
    for (const b of [b1, b2]) expect((await getBasket(b)).items[0]).toMatchObject({ productId: p.productId, name: 'Bowl XL', price: 1500 });
    expect((await getBasket(b1)).total).toBe(3000);
    expect(await getBasket(b3)).toEqual(untouched);
    const fresh = await http('PUT', url(randomUUID()), { items: [{ productId: p.productId, quantity: 1 }] });
    expect(fresh.json.items[0]).toMatchObject({ name: 'Bowl XL', price: 1500 });
  }, 60_000);

  it('a redelivered ProductUpdated (same id) is skipped: it does not put back the values a later update replaced', async () => {
    const p = await createdProduct();
    const b = await basketWith(p.productId);
    const first = await productEvent('ProductUpdated', { ...p, price: 1100, version: 2 });
    await waitProcessed(svc.db, first.id);
    await waitProcessed(svc.db, (await productEvent('ProductUpdated', { ...p, name: 'Bowl v3', price: 1300, version: 3 })).id);
    expect((await getBasket(b)).items[0]).toMatchObject({ name: 'Bowl v3', price: 1300 });

    const again = await productEvent('ProductUpdated', { ...p, price: 1100, version: 2 }, first.id); // the same record once more
    await waitConsumed(kafka, svc.groupId, again.meta);
    expect((await getBasket(b)).items[0]).toMatchObject({ name: 'Bowl v3', price: 1300 });
    expect(await svc.db.collection('products').findOne({ _id: p.productId as never })).toMatchObject({ name: 'Bowl v3', price: 1300 });
  }, 60_000);

  it('for a product in no basket: updates the cache only, no error and nothing dead-lettered', async () => {
    const p = await createdProduct();
    const other = await createdProduct();
    const b = await basketWith(other.productId);
    const before = await svc.db
      .collection('baskets')
      .find({}, { sort: { _id: 1 } })
      .toArray();

    const { id } = await productEvent('ProductUpdated', { ...p, price: 4200, version: 2 });
    await waitProcessed(svc.db, id); // recorded only after the handler succeeded
    expect(await svc.db.collection('products').findOne({ _id: p.productId as never })).toMatchObject({ price: 4200 });
    expect(
      await svc.db
        .collection('baskets')
        .find({}, { sort: { _id: 1 } })
        .toArray(),
    ).toEqual(before);
    expect((await getBasket(b)).items[0]).toMatchObject({ productId: other.productId, price: other.price });
    expect((await listDeadLetters(kafka, 'qtshop.product')).filter((d) => d.id === id)).toEqual([]);
  }, 60_000);
});

describe('OrderPlaced', () => {
  it('deletes the basket named in it, and leaves other baskets alone', async () => {
    const p = await createdProduct();
    const [ordered, kept] = [await basketWith(p.productId), await basketWith(p.productId)];
    const keptBefore = await getBasket(kept);
    const { id } = await orderPlaced(randomUUID(), ordered, p.productId);
    await waitUntil(async () => (await http('GET', url(ordered))).status === 404, { timeoutMs: 30_000, what: `basket ${ordered} deleted` });
    await waitProcessed(svc.db, id);
    expect(await getBasket(kept)).toEqual(keptBefore);
  }, 60_000);

  it('a redelivered OrderPlaced (same id) does not delete the basket recreated since', async () => {
    const p = await createdProduct();
    const b = await basketWith(p.productId);
    const orderId = randomUUID();
    const first = await orderPlaced(orderId, b, p.productId);
    await waitProcessed(svc.db, first.id);
    expect((await http('GET', url(b))).status).toBe(404);

    await basketWith(p.productId, 4, b); // the shopper fills the same basket id again
    const again = await orderPlaced(orderId, b, p.productId, first.id);
    await waitConsumed(kafka, svc.groupId, again.meta);
    const res = await http('GET', url(b));
    expect(res.status).toBe(200);
    expect(res.json.items).toEqual([expect.objectContaining({ productId: p.productId, quantity: 4 })]);
  }, 60_000);

  it('an OrderPlaced published again under a new id (same order) is stale and does not delete the basket recreated since', async () => {
    const p = await createdProduct();
    const b = await basketWith(p.productId);
    const orderId = randomUUID();
    await waitProcessed(svc.db, (await orderPlaced(orderId, b, p.productId)).id);
    await basketWith(p.productId, 3, b);
    const again = await orderPlaced(orderId, b, p.productId);
    await waitProcessed(svc.db, again.id);
    expect((await http('GET', url(b))).json.items).toEqual([expect.objectContaining({ productId: p.productId, quantity: 3 })]);
    expect(await svc.db.collection('processed_events').findOne({ _id: again.id as never })).toMatchObject({
      outcome: 'stale',
      aggregateId: orderId,
      version: 1,
    });
  }, 60_000);

  it('for a basket that does not exist: no error, nothing dead-lettered', async () => {
    const { id } = await orderPlaced(randomUUID(), randomUUID(), randomUUID());
    await waitProcessed(svc.db, id);
    expect((await listDeadLetters(kafka, 'qtshop.order')).filter((d) => d.id === id)).toEqual([]);
  }, 60_000);
});
