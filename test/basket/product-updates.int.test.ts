// Scenario "Product/Basket update" end to end: the catalog service in-process, its outbox streamed by the
// Debezium connector, the basket service consuming qtshop.product; then the basket side of "Placing
// order" with the record the orders outbox will produce.
import { randomUUID } from 'node:crypto';
import { waitUntil } from '@qtshop/shared/platform';
import { createDb, createKafka, loadInfra } from '@qtshop/shared/infra';
import { ConnectClient, registerConnector } from '@qtshop/shared/delivery';
import { readConnector } from '@qtshop/shared/tooling';
import { basketForTest, publishOutboxRow, waitProcessed, type BasketForTest } from '../support/basket';
import { ADMIN, asAdmin as http, catalogForTest } from '../support/services';

const infra = loadInfra();
const adminKnex = createDb(infra, 'postgres');
const kafka = createKafka(infra.kafka, 'test-basket-scenario');
const producer = kafka.producer({ idempotent: true });
let catalog: Awaited<ReturnType<typeof catalogForTest>>;
let basket: BasketForTest;

beforeAll(async () => {
  catalog = await catalogForTest();
  await registerConnector(ConnectClient.of(infra.connect), adminKnex, readConnector('catalog-outbox'));
  basket = await basketForTest();
  await producer.connect();
}, 120_000);
afterAll(async () => {
  await producer.disconnect();
  await basket?.stop();
  await catalog?.stop();
  await adminKnex.destroy();
});

const lampFields = (over: Record<string, unknown> = {}) => ({
  name: `Lamp ${randomUUID().slice(0, 8)}`,
  description: 'Brass',
  type: 'home',
  brand: 'Lumo',
  pictureUrl: 'https://img.example/lamp.png',
  price: 4900,
  ...over,
});
const basketUrl = (id: string) => `${basket.url}/baskets/${id}`;
const getBasket = async (id: string) => (await http('GET', basketUrl(id))).json;

async function catalogProduct(fields: Record<string, unknown>): Promise<string> {
  const res = await http('POST', `${catalog.url}/products`, fields, ADMIN);
  expect(res.status).toBe(201);
  return res.json.id;
}

describe('a product price change in the catalog reaches the baskets holding the product', () => {
  it('updates name and price in both baskets holding P, leaves the third basket untouched; OrderPlaced then deletes one basket', async () => {
    const p = await catalogProduct(lampFields());
    const q = await catalogProduct(lampFields({ name: 'Shade', price: 1900 }));
    // ProductCreated travels outbox -> Debezium -> Kafka -> basket's product cache.
    await waitUntil(async () => (await basket.db.collection('products').countDocuments({ _id: { $in: [p, q] as never[] } })) === 2, {
      timeoutMs: 30_000,
      what: 'both products in the basket service cache',
    });

    const [b1, b2, b3] = [randomUUID(), randomUUID(), randomUUID()];
    expect(
      (
        await http('PUT', basketUrl(b1), {
          items: [
            { productId: p, quantity: 2 },
            { productId: q, quantity: 1 },
          ],
        })
      ).status,
    ).toBe(201);
    expect((await http('PUT', basketUrl(b2), { items: [{ productId: p, quantity: 1 }] })).status).toBe(201);
    expect((await http('PUT', basketUrl(b3), { items: [{ productId: q, quantity: 3 }] })).status).toBe(201);
    const third = await getBasket(b3);
    const shadeLine = (await getBasket(b1)).items[1];

    const changed = await http('PUT', `${catalog.url}/products/${p}`, lampFields({ name: 'Lamp Pro', price: 5200 }), ADMIN);
    expect(changed.status).toBe(200);

    await waitUntil(
      async () => {
        const [one, two] = [await getBasket(b1), await getBasket(b2)];
        return one.items[0].price === 5200 && two.items[0].price === 5200;
      },
      { timeoutMs: 30_000, what: 'the new price in both baskets holding P' },
    );
    expect(await getBasket(b1)).toMatchObject({
      items: [{ productId: p, name: 'Lamp Pro', price: 5200, quantity: 2 }, shadeLine],
      total: 2 * 5200 + 1900,
    });
    expect(await getBasket(b2)).toMatchObject({ items: [{ productId: p, name: 'Lamp Pro', price: 5200, quantity: 1 }], total: 5200 });
    expect(await getBasket(b3)).toEqual(third);

    // Placing the order for b1: the record the orders outbox produces.
    const orderId = randomUUID();
    const placed = await publishOutboxRow(producer, {
      aggregatetype: 'order',
      aggregateid: orderId,
      type: 'OrderPlaced',
      payload: {
        orderId,
        basketId: b1,
        items: [
          { productId: p, price: 5200, quantity: 2 },
          { productId: q, price: 1900, quantity: 1 },
        ],
        total: 12300,
        version: 1,
      },
    });
    await waitProcessed(basket.db, placed.id);
    expect((await http('GET', basketUrl(b1))).status).toBe(404);
    expect((await http('GET', basketUrl(b2))).status).toBe(200);
  }, 90_000);
});
