// Cancelling an order and the decision deadline, in order-command, against a scratch orders database
// whose outbox nobody relays (no stock decision arrives unless the test appends it): POST
// /orders/:id/cancel appends OrderCancelled (version 2 while Pending, 3 once Confirmed) once, for its
// shopper or the admin only; and an order without a stock decision past ORDER_DECISION_TIMEOUT_MS is
// rejected with reason decision_timeout by one sweep, however many run.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { randomUUID } from 'node:crypto';
import { waitUntil } from '@qtshop/shared/platform';
import { inTransaction } from '@qtshop/shared/infra';
import { createOutboxWriter } from '@qtshop/shared/outbox';
import { DecisionDeadline } from '../../services/order-command/src/decision-deadline';
import { execute } from '../../services/order-command/src/domain/use-cases';
import { loadStream } from '../../services/order-command/src/store';
import type { ScratchDb } from '../support/scratch';
import { asAdmin, http, orderCommandOnScratch, quiet, shopper } from '../support/services';

const outbox = createOutboxWriter();
const TIMEOUT_MS = 1500;

describe('order-command: cancelling and the decision deadline', () => {
  let shop: Awaited<ReturnType<typeof orderCommandOnScratch>>;
  let scratch: ScratchDb;
  let url: string;

  beforeAll(async () => {
    // Long enough for the cancel tests to cancel their Pending orders first (they run before the deadline test).
    shop = await orderCommandOnScratch('order_cancel', {
      RATE_LIMIT_ENABLED: 'false',
      ORDER_DECISION_TIMEOUT_MS: String(TIMEOUT_MS),
      ORDER_DECISION_SWEEP_INTERVAL_MS: '200',
    });
    ({ scratch, url } = shop);
  }, 60_000);
  afterAll(() => shop?.stop(), 60_000);

  async function place(customer: string): Promise<string> {
    const productId = randomUUID();
    await scratch.db('product_prices').insert({ product_id: productId, price: 700, product_version: 1 });
    const res = await http('POST', `${url}/orders`, { basketId: customer, items: [{ productId, price: 700, quantity: 3 }] }, await shopper(customer));
    expect(res.status).toBe(201);
    return res.json.orderId as string;
  }
  const types = async (orderId: string) => (await loadStream(scratch.db, orderId)).map((e) => `${e.version}:${e.type}`);
  const outboxOf = (orderId: string) => scratch.db('outbox').where({ aggregateid: orderId }).orderBy('position').select('type', 'payload');

  it('cancels a Pending order for its shopper (version 2), once; another shopper gets 403, an unknown order 404', async () => {
    const customer = `c-${randomUUID()}`;
    const orderId = await place(customer);
    expect((await http('POST', `${url}/orders/${orderId}/cancel`, undefined, await shopper(`other-${randomUUID()}`))).status).toBe(403);
    expect(await types(orderId)).toEqual(['1:OrderPlaced']);

    const cancelled = await http('POST', `${url}/orders/${orderId}/cancel`, undefined, await shopper(customer));
    expect(cancelled.status).toBe(200);
    expect(cancelled.json).toMatchObject({ orderId, status: 'Cancelled', reason: 'cancelled_by_customer', version: 2 });
    const again = await http('POST', `${url}/orders/${orderId}/cancel`, undefined, await shopper(customer));
    expect(again.status).toBe(200);
    expect(again.json).toMatchObject({ status: 'Cancelled', version: 2 });
    expect(await types(orderId)).toEqual(['1:OrderPlaced', '2:OrderCancelled']);
    expect((await outboxOf(orderId)).map((r) => r.type)).toEqual(['OrderPlaced', 'OrderCancelled']);

    expect((await asAdmin('POST', `${url}/orders/${randomUUID()}/cancel`)).status).toBe(404);
  }, 30_000);

  it('takes a cancel without a body or Content-Type, as curl -X POST sends it', async () => {
    const orderId = await place(`c-${randomUUID()}`);
    // Not execFileSync: the service runs in this process and must answer while curl waits.
    const { stdout } = await promisify(execFile)('curl', [
      '-s',
      '-m',
      '10',
      '-X',
      'POST',
      `${url}/orders/${orderId}/cancel`,
      '-H',
      'Authorization: Bearer dev-admin-token',
    ]);
    expect(JSON.parse(stdout)).toMatchObject({ orderId, status: 'Cancelled', version: 2 });
  }, 30_000);

  it('cancels a Confirmed order (version 3) with the admin token; a rejected order cannot be cancelled (409)', async () => {
    const confirmed = await place(`c-${randomUUID()}`);
    await inTransaction(scratch.db, (trx) => execute(trx, outbox, { type: 'ConfirmOrder', orderId: confirmed }));
    const res = await asAdmin('POST', `${url}/orders/${confirmed}/cancel`);
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ status: 'Cancelled', reason: 'cancelled_by_admin', version: 3 });

    const rejected = await place(`c-${randomUUID()}`);
    await inTransaction(scratch.db, (trx) => execute(trx, outbox, { type: 'RejectOrder', orderId: rejected, reason: 'out of stock' }));
    const refused = await asAdmin('POST', `${url}/orders/${rejected}/cancel`);
    expect(refused.status).toBe(409);
    expect(refused.json.error.code).toBe('order_not_cancellable');
    expect(await types(rejected)).toEqual(['1:OrderPlaced', '2:OrderRejected']);
  }, 30_000);

  it('rejects an order with no stock decision past the deadline (decision_timeout), and a late stock outcome changes nothing', async () => {
    const orderId = await place(`c-${randomUUID()}`);
    const rejected = await waitUntil(
      async () =>
        (await types(orderId)).length === 2 ? await http('GET', `${url}/orders/${orderId}`, undefined, { authorization: 'Bearer dev-admin-token' }) : undefined,
      {
        timeoutMs: TIMEOUT_MS + 10_000,
        what: 'the order to be rejected by the decision deadline',
      },
    );
    expect(rejected.json).toMatchObject({ status: 'Rejected', reason: 'decision_timeout', version: 2 });
    expect((await outboxOf(orderId)).map((r) => [r.type, (r.payload as { reason?: string }).reason])).toEqual([
      ['OrderPlaced', undefined],
      ['OrderRejected', 'decision_timeout'],
    ]);
    expect(await scratch.db('pending_orders').where({ order_id: orderId }).first()).toBeUndefined();
    // What the consumer does with a reservation that comes after the deadline: nothing is appended (inventory
    // releases the stock when it sees the OrderRejected).
    const late = await inTransaction(scratch.db, (trx) => execute(trx, outbox, { type: 'ConfirmOrder', orderId }));
    expect(late.appended).toEqual([]);
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(Number(/^orders_decision_timeouts_total\{[^}]*\} (\S+)$/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(1);
  }, 30_000);

  it('rejects each overdue order once however many sweeps run at the same time', async () => {
    // Placed straight into the stream with an old date, so that it is overdue at once.
    const orderId = randomUUID();
    await scratch.db('order_events').insert({
      order_id: orderId,
      version: 1,
      type: 'OrderPlaced',
      data: { orderId, basketId: 'b', items: [{ productId: randomUUID(), price: 100, quantity: 1 }], total: 100 },
      occurred_at: new Date(Date.now() - 60_000),
    });
    const sweepers = Array.from({ length: 4 }, () => new DecisionDeadline({ db: scratch.db, outbox, timeoutMs: TIMEOUT_MS, intervalMs: 60_000, log: quiet }));
    await Promise.all(sweepers.map((s) => s.sweep()));
    await waitUntil(async () => (await types(orderId)).length === 2, { timeoutMs: 10_000, what: 'the overdue order to be rejected' });
    expect(await types(orderId)).toEqual(['1:OrderPlaced', '2:OrderRejected']);
    expect((await outboxOf(orderId)).map((r) => r.type)).toEqual(['OrderRejected']);
  }, 30_000);
});
