// A PUT racing a ProductUpdated, made deterministic: the consumer's whole update (cache, then baskets)
// runs after the PUT read the cache and before it writes the basket. Real MongoDB-wire server, no service.
import { randomUUID } from 'node:crypto';
import { MongoClient, type Collection, type Db } from 'mongodb';
import { loadInfra } from '@qtshop/shared/infra';
import { applyProduct, basketInput, replaceBasket } from '../../services/basket/src/domain/basket';
import type { CachedProduct } from '../../services/basket/src/model';
import { BASKETS, ensureIndexes, findBasket } from '../../services/basket/src/store';

const client = new MongoClient(loadInfra().mongo.url, { serverSelectionTimeoutMS: 5000 });
let db: Db;

beforeAll(async () => {
  await client.connect();
  db = client.db(`basket_race_${randomUUID().replace(/-/g, '').slice(0, 12)}`);
  await ensureIndexes(db);
});
afterAll(async () => {
  await db.dropDatabase();
  await client.close();
});

/** `db`, except that baskets.replaceOne first runs `before` to completion. */
function withHookBeforeBasketWrite(real: Db, before: () => Promise<void>): Db {
  const wrapCollection = (col: Collection) =>
    new Proxy(col, {
      get(target, prop) {
        if (prop === 'replaceOne') return async (...args: Parameters<Collection['replaceOne']>) => (await before(), target.replaceOne(...args));
        const v = Reflect.get(target, prop, target) as unknown;
        return typeof v === 'function' ? v.bind(target) : v;
      },
    });
  return new Proxy(real, {
    get(target, prop) {
      if (prop === 'collection') return (name: string) => (name === BASKETS ? wrapCollection(target.collection(name)) : target.collection(name));
      const v = Reflect.get(target, prop, target) as unknown;
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
}

describe('PUT /baskets/:basketId racing a ProductUpdated', () => {
  it('ends with the updated name and price although the update landed between its cache read and its basket write', async () => {
    const p: CachedProduct = { productId: randomUUID(), name: 'Jug', description: '', type: 'kitchen', brand: 'Acme', pictureUrl: '', price: 700, version: 1 };
    await applyProduct(db, p);
    const basketId = randomUUID();
    let applied = false;
    const racing = withHookBeforeBasketWrite(db, async () => {
      if (applied) return;
      applied = true;
      await applyProduct(db, { ...p, name: 'Jug 2', price: 950, version: 2 }); // the consumer: cache, then baskets (none yet)
    });

    const { basket } = await replaceBasket({ db: racing }, basketId, basketInput(10).parse({ items: [{ productId: p.productId, quantity: 2 }] }));

    expect(applied).toBe(true);
    expect(basket.items).toEqual([{ productId: p.productId, name: 'Jug 2', price: 950, quantity: 2 }]);
    expect((await findBasket(db, basketId))?.items).toEqual([{ productId: p.productId, name: 'Jug 2', price: 950, quantity: 2 }]);
    expect(basket.total).toBe(1900);
  });
});
