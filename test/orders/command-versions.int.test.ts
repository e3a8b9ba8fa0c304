// Order-command's price cache follows the catalog's product versions (an older price republished under a
// new event id must not make it refuse orders at the real price), its events carry their version in the
// order's stream, and a stock decision arriving for an order that already has one is counted stale.
import { randomUUID } from 'node:crypto';
import { createDb, createKafka, loadInfra } from '@qtshop/shared/infra';
import { createOutboxWriter } from '@qtshop/shared/outbox';
import type { EventPayload } from '@qtshop/shared/events';
import { pgInbox } from '@qtshop/shared/messaging';
import { AppError } from '@qtshop/shared/http';
import { migrateAll } from '../../scripts/migrate';
import { loadOrderCommandConfig } from '../../services/order-command/src/config';
import { ORDER_COMMAND_TOPICS, orderCommandHandlers } from '../../services/order-command/src/consumers';
import { placeOrder } from '../../services/order-command/src/api';
import { getOrder } from '../../services/order-command/src/domain/use-cases';
import { quiet } from '../support/services';
import { consumerForTest, waitCount, type ConsumerForTest, waitPgProcessed } from '../support/versions';

const outbox = createOutboxWriter();

const infra = loadInfra();
const kafka = createKafka(infra.kafka, 'test-order-command-versions');
const db = createDb(infra, loadOrderCommandConfig().ORDER_COMMAND_DB);
let consumer: ConsumerForTest;

beforeAll(async () => {
  await migrateAll(['orders'], quiet);
  consumer = await consumerForTest(kafka, { topics: ORDER_COMMAND_TOPICS, handlers: orderCommandHandlers(outbox), inbox: pgInbox(db) });
}, 60_000);
afterAll(async () => {
  await consumer?.stop();
  await db.destroy();
});

const processed = async (sent: Promise<{ id: string }>) => waitPgProcessed(db, (await sent).id, 'order-command');
const product = (productId: string, price: number, version: number): EventPayload<'ProductCreated'> => ({
  productId,
  name: 'Lamp',
  description: '',
  type: 'home',
  brand: 'Lumo',
  pictureUrl: '',
  price,
  version,
});
const order = (productId: string, price: number) => placeOrder({ db, outbox }, { basketId: `b-${randomUUID()}`, items: [{ productId, price, quantity: 1 }] });

describe('order-command, product prices with versions', () => {
  it('keeps the price of product version 3 when version 2 is published again under a new event id, and accepts orders at that price', async () => {
    const id = randomUUID();
    await processed(consumer.publish('ProductCreated', product(id, 100, 1)));
    await processed(consumer.publish('ProductUpdated', product(id, 200, 2)));
    await processed(consumer.publish('ProductUpdated', product(id, 300, 3)));

    const stale = await consumer.count('ProductUpdated', 'stale');
    await processed(consumer.publish('ProductUpdated', product(id, 200, 2)));
    expect(await consumer.count('ProductUpdated', 'stale')).toBe(stale + 1);
    expect((await order(id, 300)).order).toMatchObject({ status: 'Pending', total: 300 });
    await expect(order(id, 200)).rejects.toMatchObject({ status: 409, code: 'price_changed' } satisfies Partial<AppError>);
  }, 60_000);

  it('applies a newer price after a gap (3, then 5)', async () => {
    const id = randomUUID();
    await processed(consumer.publish('ProductCreated', product(id, 100, 3)));
    await processed(consumer.publish('ProductUpdated', product(id, 500, 5)));
    expect((await order(id, 500)).order.total).toBe(500);
  }, 60_000);

  it('skips as stale a dead-lettered older price redriven after a newer one', async () => {
    const id = randomUUID();
    await processed(consumer.publish('ProductCreated', product(id, 100, 1)));
    const older = randomUUID();
    consumer.failing.add(older);
    await consumer.publish('ProductUpdated', product(id, 200, 2), older);
    await consumer.waitDeadLettered(older);
    consumer.failing.delete(older);
    await processed(consumer.publish('ProductUpdated', product(id, 300, 3)));

    const stale = await consumer.count('ProductUpdated', 'stale');
    await consumer.redrive();
    await processed(Promise.resolve({ id: older }));
    await waitCount(() => consumer.count('ProductUpdated', 'stale'), stale + 1, 'the redriven event counted stale');
    expect((await order(id, 300)).order.total).toBe(300);
  }, 60_000);
});

describe('order-command, the order stream and its stock decision', () => {
  it('publishes each event with its version in the stream, and counts a second stock decision for a decided order stale', async () => {
    const id = randomUUID();
    await processed(consumer.publish('ProductCreated', product(id, 700, 1)));
    const { orderId } = (await order(id, 700)).order;
    await processed(consumer.publish('OrderStockReserved', { orderId, version: 1 }));
    expect(await getOrder(db, orderId)).toMatchObject({ status: 'Confirmed', version: 2 });

    const stale = await consumer.count('OrderStockRejected', 'stale');
    await processed(consumer.publish('OrderStockRejected', { orderId, reason: 'late', version: 1 }));
    expect(await consumer.count('OrderStockRejected', 'stale')).toBe(stale + 1);
    expect(await getOrder(db, orderId)).toMatchObject({ status: 'Confirmed', version: 2 });

    const outbox = await db('outbox').where({ aggregateid: orderId }).orderBy('position');
    expect(outbox.map((r) => [r.type, r.payload.version])).toEqual([
      ['OrderPlaced', 1],
      ['OrderConfirmed', 2],
    ]);
  }, 60_000);
});
