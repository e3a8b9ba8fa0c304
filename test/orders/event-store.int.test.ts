// The order stream's optimistic concurrency, against the real orders database.
import { randomUUID } from 'node:crypto';
import { createDb, loadInfra } from '@qtshop/shared/infra';
import { createOutboxWriter } from '@qtshop/shared/outbox';
import { migrateAll } from '../../scripts/migrate';
import { execute } from '../../services/order-command/src/domain/use-cases';
import { appendEvents, loadStream, VersionConflict } from '../../services/order-command/src/store';

const outbox = createOutboxWriter();

const db = createDb(loadInfra(), 'orders');
beforeAll(() => migrateAll(['orders']));
afterAll(() => db.destroy());

const placed = (orderId: string) => ({
  type: 'OrderPlaced' as const,
  data: { orderId, basketId: 'b', items: [{ productId: randomUUID(), price: 100, quantity: 1 }], total: 100 },
});

describe('order event stream', () => {
  it('fails the second of two concurrent appends at the same version, and keeps the first', async () => {
    const orderId = randomUUID();
    await db.transaction((trx) => appendEvents(trx, orderId, 0, [placed(orderId)]));
    const a = db.transaction();
    const b = db.transaction();
    const [trxA, trxB] = await Promise.all([a, b]);
    await appendEvents(trxA, orderId, 1, [{ type: 'OrderConfirmed', data: { orderId } }]);
    const second = appendEvents(trxB, orderId, 1, [{ type: 'OrderRejected', data: { orderId, reason: 'x' } }]); // blocks on A's row
    await trxA.commit();
    await expect(second).rejects.toBeInstanceOf(VersionConflict);
    await trxB.rollback();
    expect((await loadStream(db, orderId)).map((e) => e.type)).toEqual(['OrderPlaced', 'OrderConfirmed']);
  });

  it('retries a command that lost the race on a fresh read instead of losing it', async () => {
    const orderId = randomUUID();
    await db.transaction((trx) => appendEvents(trx, orderId, 0, [placed(orderId)]));
    // Two outcomes decided concurrently on version 1: one appends, the other re-reads, sees a decided
    // order and appends nothing. Neither is lost silently and the stream stays consistent.
    const results = await Promise.allSettled([
      db.transaction((trx) => execute(trx, outbox, { type: 'ConfirmOrder', orderId })),
      db.transaction((trx) => execute(trx, outbox, { type: 'ConfirmOrder', orderId })),
    ]);
    expect(results.every((r) => r.status === 'fulfilled')).toBe(true);
    const appended = results.map((r) => (r as PromiseFulfilledResult<Awaited<ReturnType<typeof execute>>>).value.appended.length).sort();
    expect(appended).toEqual([0, 1]);
    expect((await loadStream(db, orderId)).map((e) => [e.version, e.type])).toEqual([
      [1, 'OrderPlaced'],
      [2, 'OrderConfirmed'],
    ]);
  });
});
