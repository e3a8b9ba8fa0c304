// Order-query's projection moves an order's status only forward by its version in the order's stream:
// an event not newer than the row is counted stale and changes nothing, also when it comes back from the
// dead-letter topic; OrderPlaced arriving after the outcome still fills in the order's lines.
import { randomUUID } from 'node:crypto';
import { createDb, createKafka, loadInfra } from '@qtshop/shared/infra';
import type { EventPayload } from '@qtshop/shared/events';
import { pgInbox } from '@qtshop/shared/messaging';
import { migrateAll } from '../../scripts/migrate';
import { loadOrderQueryConfig } from '../../services/order-query/src/config';
import { ORDER_QUERY_TOPICS, orderQueryHandlers } from '../../services/order-query/src/consumers';
import { findOrder } from '../../services/order-query/src/store';
import { quiet } from '../support/services';
import { consumerForTest, waitCount, type ConsumerForTest, waitPgProcessed } from '../support/versions';

const infra = loadInfra();
const kafka = createKafka(infra.kafka, 'test-order-query-versions');
const db = createDb(infra, loadOrderQueryConfig().ORDER_QUERY_DB);
let consumer: ConsumerForTest;

beforeAll(async () => {
  await migrateAll(['order_query'], quiet);
  consumer = await consumerForTest(kafka, { topics: ORDER_QUERY_TOPICS, handlers: orderQueryHandlers(), inbox: pgInbox(db) });
}, 60_000);
afterAll(async () => {
  await consumer?.stop();
  await db.destroy();
});

const processed = async (sent: Promise<{ id: string }>) => waitPgProcessed(db, (await sent).id, 'order-query');
const placed = (orderId: string): EventPayload<'OrderPlaced'> => ({
  orderId,
  basketId: 'b-1',
  items: [{ productId: randomUUID(), price: 250, quantity: 2 }],
  total: 500,
  version: 1,
});

describe('order-query, order events with versions', () => {
  it('keeps the status of version 3 when version 2 arrives afterwards under a fresh event id, and counts it stale', async () => {
    const orderId = randomUUID();
    await processed(consumer.publish('OrderPlaced', placed(orderId)));
    await processed(consumer.publish('OrderRejected', { orderId, reason: 'v3', version: 3 }));
    const stale = await consumer.count('OrderConfirmed', 'stale');
    await processed(consumer.publish('OrderConfirmed', { orderId, version: 2 }));
    expect(await consumer.count('OrderConfirmed', 'stale')).toBe(stale + 1);
    expect(await findOrder(db, orderId)).toMatchObject({ status: 'Rejected', reason: 'v3', total: 500 });
  }, 60_000);

  it('never moves a decided order back to Pending: OrderPlaced published again under a new event id is stale', async () => {
    const orderId = randomUUID();
    await processed(consumer.publish('OrderPlaced', placed(orderId)));
    await processed(consumer.publish('OrderConfirmed', { orderId, version: 2 }));
    const stale = await consumer.count('OrderPlaced', 'stale');
    await processed(consumer.publish('OrderPlaced', placed(orderId)));
    expect(await consumer.count('OrderPlaced', 'stale')).toBe(stale + 1);
    expect(await findOrder(db, orderId)).toMatchObject({ status: 'Confirmed' });
  }, 60_000);

  it('applies a newer version after a gap (1, then 3)', async () => {
    const orderId = randomUUID();
    await processed(consumer.publish('OrderPlaced', placed(orderId)));
    await processed(consumer.publish('OrderConfirmed', { orderId, version: 3 }));
    expect(await findOrder(db, orderId)).toMatchObject({ status: 'Confirmed', total: 500 });
  }, 60_000);

  it('fills in the order data from an OrderPlaced that arrives after its outcome, keeping the outcome', async () => {
    const orderId = randomUUID();
    await processed(consumer.publish('OrderConfirmed', { orderId, version: 2 }));
    expect(await findOrder(db, orderId)).toMatchObject({ status: 'Confirmed', total: null, placedAt: null });
    await processed(consumer.publish('OrderPlaced', placed(orderId)));
    expect(await findOrder(db, orderId)).toMatchObject({ status: 'Confirmed', total: 500, basketId: 'b-1' });
  }, 60_000);

  it('skips as stale a dead-lettered older event redriven after a newer one', async () => {
    const orderId = randomUUID();
    const older = randomUUID();
    consumer.failing.add(older);
    await consumer.publish('OrderPlaced', placed(orderId), older);
    await consumer.waitDeadLettered(older);
    consumer.failing.delete(older);
    await processed(consumer.publish('OrderPlaced', placed(orderId))); // the order stream's OrderPlaced, published again (an outbox repair)
    await processed(consumer.publish('OrderRejected', { orderId, reason: 'no stock', version: 2 }));

    const stale = await consumer.count('OrderPlaced', 'stale');
    await consumer.redrive();
    await processed(Promise.resolve({ id: older }));
    await waitCount(() => consumer.count('OrderPlaced', 'stale'), stale + 1, 'the redriven event counted stale');
    expect(await findOrder(db, orderId)).toMatchObject({ status: 'Rejected', reason: 'no stock' });
  }, 60_000);
});
