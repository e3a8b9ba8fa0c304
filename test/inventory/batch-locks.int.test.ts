// Two of inventory's consumer batches at once (two instances, two partitions of qtshop.order) whose orders
// name the same products in opposite orders, against inventory's real database: each handler locks its
// order's stock rows when it runs, so the first batch holds p1 and waits for p2 while the second holds p2
// and waits for p1, and PostgreSQL breaks the deadlock by failing one (after deadlock_timeout). With
// inventory's batch lock (lockInventoryBatch: every row of the batch locked first, in product-id order) the
// second batch waits for the first, and both commit.
import { randomUUID } from 'node:crypto';
import { createDb, inTransaction, loadInfra, type Knex } from '@qtshop/shared/infra';
import { pgInbox, type BatchLock, type ConsumedEvent } from '@qtshop/shared/messaging';
import { migrateAll } from '../../scripts/migrate';
import { loadInventoryConfig } from '../../services/inventory/src/config';
import { lockInventoryBatch, stockRowsOf } from '../../services/inventory/src/consumers';
import * as store from '../../services/inventory/src/store';

const db = createDb(loadInfra(), loadInventoryConfig().INVENTORY_DB);
beforeAll(() => migrateAll(['inventory']));
afterAll(() => db.destroy());

async function product(): Promise<string> {
  const id = randomUUID();
  await inTransaction(db, async (trx) => {
    await store.insertItem(trx, id, `Batch lock ${id}`, 1);
    await store.setQuantity(trx, id, 100);
  });
  return id;
}
const orderPlaced = (productId: string, n: number): ConsumedEvent<'OrderPlaced'> => {
  const orderId = randomUUID();
  return {
    id: randomUUID(),
    type: 'OrderPlaced',
    key: orderId,
    payload: { orderId, basketId: randomUUID(), items: [{ productId, price: 100, quantity: 1 }], total: 100, version: 1 },
    topic: 'qtshop.order',
    partition: n,
    offset: '0',
  };
};

/** Resolves when `done()` is called or after `ms` (the other batch may be held up before its first handler). */
const meeting = (ms: number) => {
  let done!: () => void;
  const met = new Promise<void>((r) => {
    done = r;
    setTimeout(r, ms).unref();
  });
  return { met, done };
};

/**
 * Two batches of two orders each, the first naming [a, b], the second [b, a]: each handler locks its order's
 * row (lockStock, as reserveStock does); the first handler of each batch waits until the other batch's first
 * handler has its lock too (or a second went by), so that, without a batch lock, they cross.
 */
async function crossingBatches(lock?: BatchLock<Knex.Transaction>) {
  const [a, b] = [await product(), await product()];
  const first = meeting(1000);
  const second = meeting(1000);
  const batch = (ids: [string, string], mine: typeof first, theirs: typeof first, partition: number) => {
    const events = ids.map((id) => orderPlaced(id, partition));
    return pgInbox(db).processBatch!(
      events.map((event, n) => ({
        event,
        fn: async (trx: Knex.Transaction) => {
          await store.lockStock(trx, [event.payload.items[0]!.productId]);
          if (n === 0) {
            mine.done();
            await theirs.met;
          }
        },
      })),
      lock,
    );
  };
  return Promise.allSettled([batch([a, b], first, second, 0), batch([b, a], second, first, 1)]);
}

describe("inventory's consumer batches with crossing products", () => {
  it('without a batch lock, PostgreSQL fails one of them as a deadlock (what the lock prevents)', async () => {
    const results = await crossingBatches();
    const failed = results.filter((r) => r.status === 'rejected');
    expect(failed).toHaveLength(1);
    expect(String((failed[0] as PromiseRejectedResult).reason)).toMatch(/deadlock detected/);
  }, 30_000);

  it('with lockInventoryBatch, both commit: the second waits for the first', async () => {
    const results = await crossingBatches(lockInventoryBatch);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled']);
  }, 30_000);

  it('finds the rows of placed orders, tracked products and what ended orders reserved', async () => {
    const [p1, p2, p3] = [await product(), await product(), await product()];
    const ended = randomUUID();
    await inTransaction(db, (trx) => store.recordDecision(trx, ended, 1, [{ productId: p3, quantity: 2 }]));
    const events = [
      orderPlaced(p1, 0),
      { ...orderPlaced(p1, 0), type: 'ProductUpdated', payload: { productId: p2 } },
      { ...orderPlaced(p1, 0), type: 'OrderCancelled', payload: { orderId: ended, version: 1 } },
    ] as ConsumedEvent[];
    const ids = await inTransaction(db, (trx) => stockRowsOf(trx, events));
    expect(ids.sort()).toEqual([p1, p2, p3].sort());
  });
});
