// OrderPlaced's effect on a basket against the shopper's PUTs, made deterministic: a PUT lands between the
// consumer's read of the basket and its write, or the other way round; a crash between the effect and the
// inbox record repeats it. The use cases on the real MongoDB-wire server, no service, no Kafka.
import { randomUUID } from 'node:crypto';
import { MongoClient, type Collection, type Db } from 'mongodb';
import { loadInfra } from '@qtshop/shared/infra';
import { applyProduct, basketInput, deleteBasket, replaceBasket } from '../../services/basket/src/domain/basket';
import { dropOrderedBasket, type OrderedBasket } from '../../services/basket/src/domain/ordered';
import type { CachedProduct } from '../../services/basket/src/model';
import { BASKETS, ensureIndexes, findBasket, ORDERS_DONE, readBasket } from '../../services/basket/src/store';

const client = new MongoClient(loadInfra().mongo.url, { serverSelectionTimeoutMS: 5000 });
let db: Db;
let p1: CachedProduct;
let p2: CachedProduct;

const product = (name: string): CachedProduct => ({
  productId: randomUUID(),
  name,
  description: '',
  type: 'kitchen',
  brand: 'Acme',
  pictureUrl: '',
  price: 500,
  version: 1,
});

beforeAll(async () => {
  await client.connect();
  db = client.db(`basket_ordered_${randomUUID().replace(/-/g, '').slice(0, 12)}`);
  await ensureIndexes(db);
  [p1, p2] = [product('Jug'), product('Bowl')];
  for (const p of [p1, p2]) await applyProduct(db, p);
});
afterAll(async () => {
  await db.dropDatabase();
  await client.close();
});

/** `real`, except that the first `method` call on the baskets collection first runs `before` to completion. */
function withHookBefore(real: Db, method: 'updateOne' | 'replaceOne', before: () => Promise<void>): Db & { fired: () => boolean } {
  let fired = false;
  const wrapCollection = (col: Collection) =>
    new Proxy(col, {
      get(target, prop) {
        if (prop === method)
          return async (...args: unknown[]) => {
            if (!fired) {
              fired = true;
              await before();
            }
            return (target[method] as (...a: unknown[]) => Promise<unknown>)(...args);
          };
        const v = Reflect.get(target, prop, target) as unknown;
        return typeof v === 'function' ? v.bind(target) : v;
      },
    });
  return new Proxy(real, {
    get(target, prop) {
      if (prop === 'fired') return () => fired;
      if (prop === 'collection') return (name: string) => (name === BASKETS ? wrapCollection(target.collection(name)) : target.collection(name));
      const v = Reflect.get(target, prop, target) as unknown;
      return typeof v === 'function' ? v.bind(target) : v;
    },
  }) as Db & { fired: () => boolean };
}

const put = (on: Db, basketId: string, items: Array<[CachedProduct, number]>) =>
  replaceBasket({ db: on }, basketId, basketInput(10).parse({ items: items.map(([p, quantity]) => ({ productId: p.productId, quantity })) }));
const ordered = (basketId: string, items: Array<[CachedProduct, number]>, basketRevision?: number): OrderedBasket => ({
  orderId: randomUUID(),
  basketId,
  version: 1,
  items: items.map(([p, quantity]) => ({ productId: p.productId, quantity })),
  ...(basketRevision === undefined ? {} : { basketRevision }),
});
const lines = async (basketId: string) => (await findBasket(db, basketId))?.items.map((l) => [l.productId, l.quantity]);
/** A crash after the effect and before the inbox and ordered_baskets records: the redelivery finds neither. */
const forgetOrder = (orderId: string) => db.collection<{ _id: string }>(ORDERS_DONE).deleteOne({ _id: orderId });

describe('OrderPlaced against a PUT of the same basket', () => {
  it('a PUT landing between its read and its write: the write misses, and the decision made again keeps the PUT’s new line', async () => {
    const c = randomUUID();
    await put(db, c, [[p1, 2]]); // revision 1: the order is placed from here
    const order = ordered(c, [[p1, 2]], 1);
    const racing = withHookBefore(
      db,
      'updateOne',
      async () =>
        void (await put(db, c, [
          [p1, 2],
          [p2, 1],
        ])),
    ); // revision 2

    expect(await dropOrderedBasket(racing, order)).toEqual({ effect: 'remove' }); // read at 1 (delete), missed, read at 2
    expect(racing.fired()).toBe(true);
    expect(await lines(c)).toEqual([[p2.productId, 1]]);
    expect((await findBasket(db, c))?.revision).toBe(3);
  });

  it('a PUT that read the basket before the order was taken out and writes after: it misses, reads again, and its lines are all there, new', async () => {
    const c = randomUUID();
    await put(db, c, [[p1, 2]]);
    const order = ordered(c, [[p1, 2]], 1);
    const racing = withHookBefore(db, 'replaceOne', async () => void (await dropOrderedBasket(db, order))); // deletes at 1 -> 2

    const { basket, created } = await put(racing, c, [
      [p1, 2],
      [p2, 1],
    ]);
    expect(racing.fired()).toBe(true);
    expect(created).toBe(true); // the basket it wrote had been deleted
    expect(basket).toMatchObject({
      revision: 3,
      items: [
        { productId: p1.productId, quantity: 2 },
        { productId: p2.productId, quantity: 1 },
      ],
    });
    expect((await readBasket(db, c))?.lines.map((l) => l.revision)).toEqual([3, 3]);

    await forgetOrder(order.orderId); // and even a repeat of the effect (crash before the record) takes none of them
    expect(await dropOrderedBasket(db, order)).toEqual({ effect: 'none' });
    expect(await lines(c)).toEqual([
      [p1.productId, 2],
      [p2.productId, 1],
    ]);
  });
});

describe('OrderPlaced repeated after a crash between its effect and its record', () => {
  it('takes out nothing more, not even the ordered product the shopper put back since', async () => {
    const c = randomUUID();
    await put(db, c, [[p1, 2]]); // 1
    const order = ordered(c, [[p1, 2]], 1);
    await put(db, c, [
      [p1, 2],
      [p2, 1],
    ]); // 2
    expect(await dropOrderedBasket(db, order)).toEqual({ effect: 'remove' }); // 3: p2 only
    await put(db, c, [
      [p2, 1],
      [p1, 2],
    ]); // 4: p1 again, a new line
    await forgetOrder(order.orderId);
    expect(await dropOrderedBasket(db, order)).toEqual({ effect: 'none' });
    expect(await lines(c)).toEqual([
      [p2.productId, 1],
      [p1.productId, 2],
    ]);
    expect((await findBasket(db, c))?.revision).toBe(4);
  });

  it('at the basket’s revision: deleted once; the basket filled again afterwards stays', async () => {
    const c = randomUUID();
    await put(db, c, [[p1, 2]]);
    const order = ordered(c, [[p1, 2]], 1);
    expect(await dropOrderedBasket(db, order)).toEqual({ effect: 'delete' });
    expect(await findBasket(db, c)).toBeUndefined();
    await put(db, c, [[p1, 2]]); // revision 3, not 1: the old order's revision cannot name it
    await forgetOrder(order.orderId);
    expect(await dropOrderedBasket(db, order)).toEqual({ effect: 'none' });
    expect(await findBasket(db, c)).toMatchObject({ revision: 3, items: [{ productId: p1.productId, quantity: 2 }] });
  });
});

describe('revisions the shopper does not make', () => {
  it('a product update leaves the basket and line revisions alone; a PUT of the same lines too', async () => {
    const c = randomUUID();
    await put(db, c, [[p1, 2]]);
    await put(db, c, [
      [p1, 2],
      [p2, 1],
    ]); // 2
    p2 = { ...p2, name: 'Bowl XL', price: 650, version: p2.version + 1 };
    await applyProduct(db, p2);
    expect(await readBasket(db, c)).toMatchObject({ revision: 2, lines: [{ revision: 1 }, { revision: 2, name: 'Bowl XL', price: 650 }] });
    expect(
      (
        await put(db, c, [
          [p1, 2],
          [p2, 1],
        ])
      ).basket.revision,
    ).toBe(2);
  });

  it('a DELETE of a deleted basket moves nothing; the next PUT carries on from the revision', async () => {
    const c = randomUUID();
    await put(db, c, [[p1, 1]]);
    await deleteBasket({ db }, c);
    await deleteBasket({ db }, c);
    expect(await readBasket(db, c)).toMatchObject({ revision: 2, deleted: true, lines: [] });
    expect(await put(db, c, [])).toMatchObject({ created: true, basket: { revision: 3, items: [] } });
  });
});

describe('baskets written before revisions', () => {
  const legacy = async (items: Array<[CachedProduct, number]>) => {
    const c = randomUUID();
    await db.collection(BASKETS).insertOne({
      _id: c as never,
      items: items.map(([p, quantity]) => ({ productId: p.productId, name: p.name, price: p.price, quantity, productVersion: 1 })),
      updatedAt: new Date(),
    });
    return c;
  };

  it('read as revision 0; an order without a revision takes out the lines equal to an ordered line', async () => {
    const c = await legacy([
      [p1, 2],
      [p2, 1],
    ]);
    expect((await findBasket(db, c))?.revision).toBe(0);
    expect(await dropOrderedBasket(db, ordered(c, [[p1, 2]]))).toEqual({ effect: 'remove' });
    expect(await lines(c)).toEqual([[p2.productId, 1]]);
    expect((await findBasket(db, c))?.revision).toBe(1);
  });

  it('an order naming a revision the basket never had takes out nothing; the next PUT gives the basket revision 1', async () => {
    const c = await legacy([[p1, 2]]);
    expect(await dropOrderedBasket(db, ordered(c, [[p1, 2]], 1))).toEqual({ effect: 'none' });
    expect(await lines(c)).toEqual([[p1.productId, 2]]);
    expect((await put(db, c, [[p1, 2]])).basket.revision).toBe(1);
  });
});
