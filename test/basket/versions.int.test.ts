// The basket's product cache and the basket lines it rewrites follow the catalog's product versions, with
// conditional MongoDB updates only (no transactions): a product event applies only where the cache or a
// line holds an older version; when nothing is older it is counted stale and changes nothing, also when it
// comes back from the dead-letter topic or is finished late by a consumer that lost its partition.
import { randomUUID } from 'node:crypto';
import { MongoClient, type Db } from 'mongodb';
import { createKafka, loadInfra } from '@qtshop/shared/infra';
import { isStale, type EventPayload } from '@qtshop/shared/events';
import { mongoInbox } from '@qtshop/shared/messaging';
import { BASKET_TOPICS, basketHandlers } from '../../services/basket/src/consumers';
import { applyProduct, basketInput, replaceBasket } from '../../services/basket/src/domain/basket';
import { BASKETS, ensureIndexes, findBasket, PRODUCTS, upsertProduct } from '../../services/basket/src/store';
import { waitProcessed } from '../support/basket';
import { quiet } from '../support/services';
import { consumerForTest, waitCount, type ConsumerForTest } from '../support/versions';

const infra = loadInfra();
const kafka = createKafka(infra.kafka, 'test-basket-versions');
const client = new MongoClient(infra.mongo.url, { serverSelectionTimeoutMS: 5000 });
const suffix = randomUUID().replace(/-/g, '').slice(0, 12);
let db: Db;
let consumer: ConsumerForTest;

beforeAll(async () => {
  await client.connect();
  db = client.db(`basket_versions_${suffix}`);
  await ensureIndexes(db);
  consumer = await consumerForTest(kafka, { topics: BASKET_TOPICS, handlers: basketHandlers(quiet), inbox: mongoInbox(db) });
}, 60_000);
afterAll(async () => {
  await consumer?.stop();
  await db?.dropDatabase();
  await client.close();
});

const product = (productId: string, version: number): EventPayload<'ProductCreated'> => ({
  productId,
  name: `Cup v${version}`,
  description: '',
  type: 'kitchen',
  brand: 'Acme',
  pictureUrl: '',
  price: 100 * version,
  version,
});
const send = (type: 'ProductCreated' | 'ProductUpdated', productId: string, version: number, id?: string) =>
  consumer.publish(type, product(productId, version), id);
const processed = async (sent: Promise<{ id: string }>) => waitProcessed(db, (await sent).id);
const basketWith = async (productId: string) => {
  const basketId = randomUUID();
  await replaceBasket({ db }, basketId, basketInput(10).parse({ items: [{ productId, quantity: 2 }] }));
  return basketId;
};
const lineOf = async (basketId: string) => (await findBasket(db, basketId))!.items[0];
const cached = (productId: string) => db.collection(PRODUCTS).findOne({ _id: productId as never });

describe('basket, product events with versions', () => {
  it('keeps cache and basket lines at product version 3 when version 2 arrives afterwards under a fresh event id, and counts it stale', async () => {
    const id = randomUUID();
    await processed(send('ProductCreated', id, 1));
    const b = await basketWith(id);
    await processed(send('ProductUpdated', id, 3));
    expect(await lineOf(b)).toMatchObject({ name: 'Cup v3', price: 300 });

    const stale = await consumer.count('ProductUpdated', 'stale');
    await processed(send('ProductUpdated', id, 2));
    expect(await consumer.count('ProductUpdated', 'stale')).toBe(stale + 1);
    expect(await lineOf(b)).toMatchObject({ name: 'Cup v3', price: 300 });
    expect(await cached(id)).toMatchObject({ name: 'Cup v3', price: 300, version: 3 });
    // A basket filled now is priced from the cache, at version 3.
    expect(await lineOf(await basketWith(id))).toMatchObject({ name: 'Cup v3', price: 300 });
  }, 60_000);

  it('applies a newer version after a gap (3, then 5) to the cache and to every line', async () => {
    const id = randomUUID();
    await processed(send('ProductCreated', id, 1));
    const [b1, b2] = [await basketWith(id), await basketWith(id)];
    await processed(send('ProductUpdated', id, 3));
    await processed(send('ProductUpdated', id, 5));
    for (const b of [b1, b2]) expect(await lineOf(b)).toMatchObject({ name: 'Cup v5', price: 500 });
    expect(await cached(id)).toMatchObject({ version: 5, price: 500 });
  }, 60_000);

  it('skips as stale a dead-lettered older event redriven after a newer one', async () => {
    const id = randomUUID();
    await processed(send('ProductCreated', id, 1));
    const b = await basketWith(id);
    const older = randomUUID();
    consumer.failing.add(older);
    await send('ProductUpdated', id, 2, older);
    await consumer.waitDeadLettered(older);
    consumer.failing.delete(older);
    await processed(send('ProductUpdated', id, 3));

    const stale = await consumer.count('ProductUpdated', 'stale');
    await consumer.redrive();
    await waitProcessed(db, older);
    await waitCount(() => consumer.count('ProductUpdated', 'stale'), stale + 1, 'the redriven event counted stale');
    expect(await lineOf(b)).toMatchObject({ name: 'Cup v3', price: 300 });
    expect(await cached(id)).toMatchObject({ version: 3 });
  }, 60_000);

  it('still brings the lines up when the cache is already at the event version (a crash between the two writes, then redelivery)', async () => {
    const id = randomUUID();
    await processed(send('ProductCreated', id, 1));
    const b = await basketWith(id);
    await upsertProduct(db, { ...product(id, 2) }, new Date()); // the cache write happened, the basket update did not

    const applied = await consumer.count('ProductUpdated', 'applied');
    await processed(send('ProductUpdated', id, 2));
    expect(await consumer.count('ProductUpdated', 'applied')).toBe(applied + 1);
    expect(await lineOf(b)).toMatchObject({ name: 'Cup v2', price: 200 });
  }, 60_000);

  it('changes nothing when a consumer that lost its partition finishes an older event after a newer one', async () => {
    const id = randomUUID();
    await processed(send('ProductCreated', id, 1));
    const b = await basketWith(id);
    await applyProduct(db, product(id, 4));
    const late = await applyProduct(db, product(id, 3));
    expect(isStale(late.result)).toBe(true);
    expect(late.baskets).toBe(0);
    expect(await lineOf(b)).toMatchObject({ name: 'Cup v4', price: 400 });
  }, 60_000);

  it('treats cache documents and lines written before versions existed as older than any versioned event', async () => {
    const id = randomUUID();
    const basketId = randomUUID();
    await db
      .collection(PRODUCTS)
      .insertOne({ _id: id as never, name: 'Cup', description: '', type: 'kitchen', brand: 'Acme', pictureUrl: '', price: 50, updatedAt: new Date() });
    await db.collection(BASKETS).insertOne({ _id: basketId as never, items: [{ productId: id, name: 'Cup', price: 50, quantity: 1 }], updatedAt: new Date() });
    await processed(send('ProductUpdated', id, 1));
    expect(await cached(id)).toMatchObject({ version: 1, price: 100 });
    expect(await lineOf(basketId)).toMatchObject({ name: 'Cup v1', price: 100 });
  }, 60_000);
});
