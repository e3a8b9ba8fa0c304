// The MongoDB-wire server (mongo-java-server 1.47) reports wire version 8. The `mongodb` driver is pinned
// to 6.x (package.json), which accepts it; driver 7.6+ requires a newer wire version and refuses to connect.
// The same operations run on a real MongoDB 7 (docker-compose).
import { randomUUID } from 'node:crypto';
import { MongoClient, MongoServerError } from 'mongodb';
import { loadInfra } from '@qtshop/shared/infra';

const infra = loadInfra();

describe('the stack MongoDB-wire server', () => {
  const client = new MongoClient(infra.mongo.url, { serverSelectionTimeoutMS: 5000 });
  const db = client.db(`test_${randomUUID().replace(/-/g, '')}`);
  beforeAll(() => client.connect());
  afterAll(async () => {
    await db.dropDatabase();
    await client.close();
  });

  it('answers ping', async () => {
    expect((await db.command({ ping: 1 })).ok).toBe(1);
  });

  it('enforces a unique index: a duplicate key fails with code 11000', async () => {
    const col = db.collection<{ eventId: string }>('processed');
    await col.createIndex({ eventId: 1 }, { unique: true });
    await col.insertOne({ eventId: 'e1' });
    const err = await col.insertOne({ eventId: 'e1' }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(MongoServerError);
    expect((err as MongoServerError).code).toBe(11000);
    expect(await col.countDocuments({ eventId: 'e1' })).toBe(1);
  });

  it('updates matching array elements across documents with updateMany and arrayFilters', async () => {
    type Basket = { _id: string; items: Array<{ productId: string; price: number }> };
    const col = db.collection<Basket>('baskets');
    await col.insertMany([
      {
        _id: 'b1',
        items: [
          { productId: 'p', price: 1 },
          { productId: 'q', price: 5 },
        ],
      },
      { _id: 'b2', items: [{ productId: 'p', price: 1 }] },
      { _id: 'b3', items: [{ productId: 'q', price: 5 }] },
    ]);
    const res = await col.updateMany({ 'items.productId': 'p' }, { $set: { 'items.$[i].price': 9 } }, { arrayFilters: [{ 'i.productId': 'p' }] });
    expect(res.modifiedCount).toBe(2);
    expect(await col.find({}, { sort: { _id: 1 } }).toArray()).toEqual([
      {
        _id: 'b1',
        items: [
          { productId: 'p', price: 9 },
          { productId: 'q', price: 5 },
        ],
      },
      { _id: 'b2', items: [{ productId: 'p', price: 9 }] },
      { _id: 'b3', items: [{ productId: 'q', price: 5 }] },
    ]);
  });

  it('inserts with findOneAndUpdate upsert, then updates the same document', async () => {
    const col = db.collection<{ _id: string; n: number }>('counters');
    const first = await col.findOneAndUpdate({ _id: 'c' }, { $inc: { n: 1 } }, { upsert: true, returnDocument: 'after' });
    expect(first).toEqual({ _id: 'c', n: 1 });
    const second = await col.findOneAndUpdate({ _id: 'c' }, { $inc: { n: 1 } }, { upsert: true, returnDocument: 'after' });
    expect(second).toEqual({ _id: 'c', n: 2 });
    expect(await col.countDocuments()).toBe(1);
  });
});
