// Inventory's copy of the product name follows the catalog's product versions: ProductCreated/Updated
// apply only when newer than the version the name came from; older or equal is counted stale and changes
// nothing, also when it comes back from the dead-letter topic. The stock item's own version grows with each
// quantity change and travels in ProductQuantityUpdated.
import { randomUUID } from 'node:crypto';
import { createDb, createKafka, loadInfra, type Knex } from '@qtshop/shared/infra';
import { createOutboxWriter } from '@qtshop/shared/outbox';
import type { EventPayload } from '@qtshop/shared/events';
import { pgInbox } from '@qtshop/shared/messaging';
import { migrateAll } from '../../scripts/migrate';
import { loadInventoryConfig } from '../../services/inventory/src/config';
import { INVENTORY_TOPICS, inventoryHandlers } from '../../services/inventory/src/consumers';
import { reserveStock } from '../../services/inventory/src/domain/reservation';
import { setStock } from '../../services/inventory/src/domain/stock';
import { findItem } from '../../services/inventory/src/store';
import { quiet } from '../support/services';
import { consumerForTest, waitCount, type ConsumerForTest, waitPgProcessed } from '../support/versions';

const outbox = createOutboxWriter();

const infra = loadInfra();
const kafka = createKafka(infra.kafka, 'test-inventory-versions');
const db = createDb(infra, loadInventoryConfig().INVENTORY_DB);
let consumer: ConsumerForTest;

beforeAll(async () => {
  await migrateAll(['inventory'], quiet);
  consumer = await consumerForTest(kafka, { topics: INVENTORY_TOPICS, handlers: inventoryHandlers(outbox), inbox: pgInbox(db) });
}, 60_000);
afterAll(async () => {
  await consumer?.stop();
  await db.destroy();
});

const processed = (eventId: string) => waitPgProcessed(db, eventId, 'inventory');
const product = (productId: string, name: string, version: number): EventPayload<'ProductCreated'> => ({
  productId,
  name,
  description: '',
  type: 'kitchen',
  brand: 'Acme',
  pictureUrl: '',
  price: 1000,
  version,
});
const created = (productId: string) => consumer.publish('ProductCreated', product(productId, 'Pan v1', 1));
const updated = (productId: string, version: number, id?: string) => consumer.publish('ProductUpdated', product(productId, `Pan v${version}`, version), id);
const nameOf = async (productId: string) => (await findItem(db, productId))?.name;

describe('inventory, product events with versions', () => {
  it('keeps the name of product version 3 when version 2 arrives afterwards under a fresh event id, and counts it stale', async () => {
    const id = randomUUID();
    await processed((await created(id)).id);
    await processed((await updated(id, 3)).id);
    expect(await nameOf(id)).toBe('Pan v3');

    const stale = await consumer.count('ProductUpdated', 'stale');
    await processed((await updated(id, 2)).id);
    expect(await consumer.count('ProductUpdated', 'stale')).toBe(stale + 1);
    const createdAgain = await consumer.count('ProductCreated', 'stale');
    await processed((await created(id)).id); // a late ProductCreated (version 1) neither renames nor resets the stock
    expect(await consumer.count('ProductCreated', 'stale')).toBe(createdAgain + 1);
    expect(await findItem(db, id)).toMatchObject({ name: 'Pan v3', quantity: 0 });
  }, 60_000);

  it('applies a newer version after a gap (3, then 5): each event carries the whole product', async () => {
    const id = randomUUID();
    await processed((await created(id)).id);
    await processed((await updated(id, 3)).id);
    await processed((await updated(id, 5)).id);
    expect(await nameOf(id)).toBe('Pan v5');
  }, 60_000);

  it('skips as stale a dead-lettered older event redriven after a newer one', async () => {
    const id = randomUUID();
    await processed((await created(id)).id);
    const older = randomUUID();
    consumer.failing.add(older);
    await updated(id, 2, older);
    await consumer.waitDeadLettered(older);
    consumer.failing.delete(older);
    await processed((await updated(id, 3)).id);

    const stale = await consumer.count('ProductUpdated', 'stale');
    await consumer.redrive();
    await processed(older);
    await waitCount(() => consumer.count('ProductUpdated', 'stale'), stale + 1, 'the redriven event counted stale');
    expect(await nameOf(id)).toBe('Pan v3');
  }, 60_000);

  it('reserves the stock of an order once when its OrderPlaced is published again under a new event id, and counts the second stale', async () => {
    const id = randomUUID();
    await processed((await created(id)).id);
    await setStock({ db, outbox }, id, 10);
    const order: EventPayload<'OrderPlaced'> = {
      orderId: randomUUID(),
      basketId: 'b',
      items: [{ productId: id, price: 1000, quantity: 3 }],
      total: 3000,
      version: 1,
    };
    const first = await consumer.publish('OrderPlaced', order);
    await processed(first.id);
    expect((await findItem(db, id))?.quantity).toBe(7);

    const stale = await consumer.count('OrderPlaced', 'stale');
    const again = await consumer.publish('OrderPlaced', order);
    await processed(again.id);
    expect(await consumer.count('OrderPlaced', 'stale')).toBe(stale + 1);
    expect((await findItem(db, id))?.quantity).toBe(7);
    expect(await db('outbox').where({ aggregateid: order.orderId }).pluck('type')).toEqual(['OrderStockReserved']);
    // The inbox records what it did with each: for audits (npm run chaos).
    expect(await db('processed_events').whereIn('event_id', [first.id, again.id]).orderBy('processed_at').select('aggregate_id', 'version', 'outcome')).toEqual(
      [
        { aggregate_id: order.orderId, version: 1, outcome: 'applied' },
        { aggregate_id: order.orderId, version: 1, outcome: 'stale' },
      ],
    );
  }, 60_000);

  it('numbers each quantity change of a stock item, set or reserved, in its ProductQuantityUpdated: 2, 3, ... after creation at 1', async () => {
    const id = randomUUID();
    await processed((await created(id)).id);
    await setStock({ db, outbox }, id, 7);
    await setStock({ db, outbox }, id, 4);
    const quantities = (trx: Knex) => trx('outbox').where({ aggregateid: id, type: 'ProductQuantityUpdated' }).orderBy('position').pluck('payload');
    expect(await quantities(db)).toEqual([
      { productId: id, quantity: 7, version: 2 },
      { productId: id, quantity: 4, version: 3 },
    ]);
    // A reservation, in a transaction rolled back afterwards: the order is made up, its stock decision must not be published.
    const orderId = randomUUID();
    const trx = await db.transaction();
    try {
      await reserveStock(trx, outbox, { orderId, basketId: 'b', items: [{ productId: id, price: 1000, quantity: 3 }], total: 3000, version: 1 });
      expect((await quantities(trx)).at(-1)).toEqual({ productId: id, quantity: 1, version: 4 });
      // The stock decision of an order is taken once and never changes: version 1.
      expect((await trx('outbox').where({ aggregateid: orderId }).first()).payload).toEqual({ orderId, version: 1 });
    } finally {
      await trx.rollback();
    }
  }, 60_000);
});
