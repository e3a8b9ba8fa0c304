// Giving back the stock of an order that ended, against inventory's real database: once, whatever the
// number of deliveries; and an order that ended before inventory decided reserves nothing when its
// OrderPlaced comes later (a void decision). The domain functions run in transactions as the consumer's
// handlers run them; the events they write go to the outbox like any other.
import { randomUUID } from 'node:crypto';
import { createDb, inTransaction, loadInfra } from '@qtshop/shared/infra';
import { isStale } from '@qtshop/shared/events';
import { migrateAll } from '../../scripts/migrate';
import { loadInventoryConfig } from '../../services/inventory/src/config';
import { releaseStock } from '../../services/inventory/src/domain/release';
import { reserveStock } from '../../services/inventory/src/domain/reservation';
import * as store from '../../services/inventory/src/store';
import { stockEventsOnly } from '../support/outbox';

// The orders are made up: stockEventsOnly writes no stock decision for them.
const outbox = stockEventsOnly;
const db = createDb(loadInfra(), loadInventoryConfig().INVENTORY_DB);

beforeAll(() => migrateAll(['inventory']));
afterAll(() => db.destroy());

async function productWithStock(quantity: number): Promise<string> {
  const id = randomUUID();
  await inTransaction(db, async (trx) => {
    await store.insertItem(trx, id, `Release ${id}`, 1);
    await store.setQuantity(trx, id, quantity);
  });
  return id;
}
const order = (orderId: string, productId: string, quantity: number) => ({
  orderId,
  basketId: 'b',
  items: [{ productId, price: 100, quantity }],
  total: 100 * quantity,
  version: 1,
});
const stock = async (id: string) => (await store.findItem(db, id))!.quantity;
const decision = (orderId: string) => db('stock_decisions').where({ order_id: orderId }).first('version', 'outcome');

describe('releasing the stock of an order that ended', () => {
  it('gives a reservation back once, however often the end of the order is delivered', async () => {
    const p = await productWithStock(10);
    const orderId = randomUUID();
    expect(await inTransaction(db, (trx) => reserveStock(trx, outbox, order(orderId, p, 4)))).toBe('reserved');
    expect(await stock(p)).toBe(6);
    expect(await inTransaction(db, (trx) => releaseStock(trx, outbox, orderId))).toEqual({ action: 'release', lines: [{ productId: p, quantity: 4 }] });
    expect(await stock(p)).toBe(10);
    expect(isStale(await inTransaction(db, (trx) => releaseStock(trx, outbox, orderId)))).toBe(true);
    expect(await stock(p)).toBe(10);
    expect(await decision(orderId)).toEqual({ version: 2, outcome: 'reserved' });
    const events = await db('outbox').where({ aggregateid: p, type: 'ProductQuantityUpdated' }).orderBy('position').select('payload');
    expect(events.map((e) => (e.payload as { quantity: number }).quantity)).toEqual([6, 10]);
  });

  it('records a void decision for an order that ended before inventory decided: its late OrderPlaced reserves nothing', async () => {
    const p = await productWithStock(5);
    const orderId = randomUUID();
    expect(await inTransaction(db, (trx) => releaseStock(trx, outbox, orderId))).toEqual({ action: 'void' });
    expect(isStale(await inTransaction(db, (trx) => reserveStock(trx, outbox, order(orderId, p, 2))))).toBe(true);
    expect(await stock(p)).toBe(5);
    expect(await decision(orderId)).toEqual({ version: 2, outcome: 'void' });
  });

  it('closes a refusal without giving anything back', async () => {
    const p = await productWithStock(1);
    const orderId = randomUUID();
    expect(await inTransaction(db, (trx) => reserveStock(trx, outbox, order(orderId, p, 3)))).toBe('rejected');
    expect(await inTransaction(db, (trx) => releaseStock(trx, outbox, orderId))).toEqual({ action: 'close' });
    expect(await stock(p)).toBe(1);
    expect(await decision(orderId)).toEqual({ version: 2, outcome: 'rejected' });
  });
});
