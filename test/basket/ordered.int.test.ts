// An OrderPlaced that reaches the basket late (the orders connector paused and the relay's repair
// publishing it 30 s on, or a lagging consumer), after the shopper changed the basket it was placed from.
// The basket service in-process over HTTP; OrderPlaced produced as the orders outbox relays produce it.
// The order takes out only the lines the basket held at the revision it names; without a revision, the
// lines equal to an ordered line (domain/ordered.ts).
import { randomUUID } from 'node:crypto';
import { createKafka, loadInfra } from '@qtshop/shared/infra';
import type { EventPayload } from '@qtshop/shared/events';
import { applyProduct } from '../../services/basket/src/domain/basket';
import type { CachedProduct } from '../../services/basket/src/model';
import { basketForTest, publishOutboxRow, waitConsumed, waitProcessed, type BasketForTest } from '../support/basket';
import { asAdmin as http } from '../support/services';

const kafka = createKafka(loadInfra().kafka, 'test-basket-ordered');
const producer = kafka.producer({ idempotent: true });
let svc: BasketForTest;
let mug: CachedProduct;
let pot: CachedProduct;

const seeded = async (name: string, price: number) => {
  const p: CachedProduct = { productId: randomUUID(), name, description: '', type: 'kitchen', brand: 'Acme', pictureUrl: '', price, version: 1 };
  await applyProduct(svc.db, p);
  return p;
};

beforeAll(async () => {
  svc = await basketForTest();
  await producer.connect();
  [mug, pot] = [await seeded('Mug', 1250), await seeded('Teapot', 3400)];
}, 60_000);
afterAll(async () => {
  await producer.disconnect();
  await svc?.stop();
});

type Lines = Array<[CachedProduct, number]>;
const url = (basketId: string) => `${svc.url}/baskets/${basketId}`;
const put = async (basketId: string, lines: Lines) => {
  const res = await http('PUT', url(basketId), { items: lines.map(([p, quantity]) => ({ productId: p.productId, quantity })) });
  expect(res.status).toBeLessThan(300);
  return res.json as { revision: number };
};
const get = (basketId: string) => http('GET', url(basketId));
const held = async (basketId: string) => (await get(basketId)).json.items.map((l: { productId: string; quantity: number }) => [l.productId, l.quantity]);

/** The OrderPlaced order-command writes for these lines (with the basket revision when the client sent one), as relayed. */
function orderPlaced(basketId: string, lines: Lines, basketRevision?: number, order = { orderId: randomUUID(), id: randomUUID() }) {
  const items = lines.map(([p, quantity]) => ({ productId: p.productId, price: p.price, quantity }));
  const payload: EventPayload<'OrderPlaced'> = {
    orderId: order.orderId,
    basketId,
    customerId: basketId,
    items,
    total: items.reduce((s, i) => s + i.price * i.quantity, 0),
    ...(basketRevision === undefined ? {} : { basketRevision }),
    version: 1,
  };
  return { ...order, sent: publishOutboxRow(producer, { id: order.id, aggregatetype: 'order', aggregateid: order.orderId, type: 'OrderPlaced', payload }) };
}
const delivered = async (o: ReturnType<typeof orderPlaced>) => waitProcessed(svc.db, (await o.sent).id);

describe('OrderPlaced arriving after the shopper changed the basket', () => {
  it('leaves the product added since, takes out the ordered line, and a redelivery (same or new event id) changes nothing more', async () => {
    const c = randomUUID();
    const { revision } = await put(c, [[mug, 2]]); // the shopper orders from here
    const changed = await put(c, [
      [mug, 2],
      [pot, 1],
    ]); // and adds a teapot before OrderPlaced arrives

    const first = orderPlaced(c, [[mug, 2]], revision);
    await delivered(first);
    const after = await get(c);
    expect(after.status).toBe(200);
    expect(after.json).toMatchObject({ items: [{ productId: pot.productId, name: 'Teapot', price: 3400, quantity: 1 }], total: 3400 });
    expect([revision, changed.revision, after.json.revision]).toEqual([1, 2, 3]);

    const again = orderPlaced(c, [[mug, 2]], revision, { orderId: first.orderId, id: first.id }); // the same record once more
    await waitConsumed(kafka, svc.groupId, (await again.sent).meta);
    await delivered(orderPlaced(c, [[mug, 2]], revision, { orderId: first.orderId, id: randomUUID() })); // published again: stale
    expect((await get(c)).json).toEqual(after.json);
    expect(await svc.db.collection('processed_events').countDocuments({ aggregateId: first.orderId, outcome: 'stale' })).toBe(1);
  }, 60_000);

  it('leaves an ordered line whose quantity the shopper changed since', async () => {
    const c = randomUUID();
    const { revision } = await put(c, [
      [mug, 2],
      [pot, 1],
    ]);
    await put(c, [
      [mug, 5],
      [pot, 1],
    ]);
    await delivered(
      orderPlaced(
        c,
        [
          [mug, 2],
          [pot, 1],
        ],
        revision,
      ),
    );
    expect(await held(c)).toEqual([[mug.productId, 5]]);
  }, 60_000);

  it('leaves the lines of a basket deleted and filled again since: its revision carried on, so the old order cannot name it', async () => {
    const c = randomUUID();
    const { revision } = await put(c, [[mug, 2]]);
    expect((await http('DELETE', url(c))).status).toBe(204);
    expect((await put(c, [[mug, 2]])).revision).toBe(3);
    await delivered(orderPlaced(c, [[mug, 2]], revision));
    expect((await get(c)).json).toMatchObject({ revision: 3, items: [{ productId: mug.productId, quantity: 2 }] });
  }, 60_000);
});

describe('OrderPlaced at the basket’s current revision', () => {
  it('deletes the basket, lines the order left out too; filled again, it is created at the next revision', async () => {
    const c = randomUUID();
    const { revision } = await put(c, [
      [mug, 2],
      [pot, 1],
    ]);
    await delivered(orderPlaced(c, [[mug, 2]], revision));
    expect((await get(c)).status).toBe(404);
    const res = await http('PUT', url(c), { items: [{ productId: pot.productId, quantity: 1 }] });
    expect(res.status).toBe(201);
    expect(res.json.revision).toBe(revision + 2);
  }, 60_000);
});

describe('OrderPlaced without a basket revision (older clients, events published before revisions)', () => {
  it('takes out only the lines equal to an ordered line (product and quantity), and deletes the basket when none is left', async () => {
    const [added, changed, same] = [randomUUID(), randomUUID(), randomUUID()];
    await put(added, [
      [mug, 2],
      [pot, 1],
    ]);
    await put(changed, [[mug, 3]]);
    await put(same, [[mug, 2]]);
    for (const c of [added, changed, same]) await delivered(orderPlaced(c, [[mug, 2]]));
    expect((await get(added)).json).toMatchObject({ items: [{ productId: pot.productId, quantity: 1 }], revision: 2 });
    expect((await get(changed)).json).toMatchObject({ items: [{ productId: mug.productId, quantity: 3 }], revision: 1 });
    expect((await get(same)).status).toBe(404);
  }, 60_000);
});

describe('the basket revision over HTTP', () => {
  it('GET and PUT answer it; a PUT of the same lines keeps it, a PUT that changes them moves it on', async () => {
    const c = randomUUID();
    expect(await put(c, [[mug, 1]])).toMatchObject({ revision: 1 });
    expect((await get(c)).json.revision).toBe(1);
    expect(await put(c, [[mug, 1]])).toMatchObject({ revision: 1 });
    expect(await put(c, [[mug, 4]])).toMatchObject({ revision: 2 });
    expect((await get(c)).json.revision).toBe(2);
  }, 60_000);
});
