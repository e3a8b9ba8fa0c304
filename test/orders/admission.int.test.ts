// Admission of new orders under overload (services/order-command/src/admission.ts), against a scratch
// orders database whose outbox nobody relays, so the orders placed stay Pending until the test decides
// them: with ORDER_ADMISSION_LATE_ORDERS orders waiting longer than ORDER_ADMISSION_MAX_PENDING_AGE_MS,
// POST /orders is answered 503 overloaded with Retry-After at once and stores nothing, while reads and
// cancels are served and /ready stays 200 (degraded, naming it); once the backlog clears, orders are
// accepted again. Small limits keep it to seconds.
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { waitUntil } from '@qtshop/shared/platform';
import { inTransaction } from '@qtshop/shared/infra';
import { createOutboxWriter } from '@qtshop/shared/outbox';
import { execute } from '../../services/order-command/src/domain/use-cases';
import { pendingAgeAtRank } from '../../services/order-command/src/store';
import type { ScratchDb } from '../support/scratch';
import { asAdmin, http, orderCommandOnScratch } from '../support/services';

const MAX_AGE_MS = 300;
const LATE_ORDERS = 2;
/** How long a refusal may take, answered from memory. */
const REFUSAL_BUDGET_MS = 50;
const outbox = createOutboxWriter();

describe('order-command: admission of new orders while the backlog is over its limit', () => {
  let shop: Awaited<ReturnType<typeof orderCommandOnScratch>>;
  let scratch: ScratchDb;
  let url: string;
  const productId = randomUUID();

  beforeAll(async () => {
    shop = await orderCommandOnScratch('order_admission', {
      ORDER_ADMISSION_MAX_PENDING_AGE_MS: String(MAX_AGE_MS),
      ORDER_ADMISSION_LATE_ORDERS: String(LATE_ORDERS),
      ORDER_ADMISSION_SAMPLE_MS: '50',
    });
    ({ scratch, url } = shop);
    await scratch.db('product_prices').insert({ product_id: productId, price: 1500, product_version: 1 });
  }, 60_000);
  afterAll(() => shop?.stop(), 60_000);

  const order = () => ({ basketId: `b-${randomUUID()}`, items: [{ productId, price: 1500, quantity: 1 }] });
  const place = () => asAdmin('POST', `${url}/orders`, order(), { 'idempotency-key': randomUUID() });
  const ready = async () => {
    const res = await http('GET', `${url}/ready`);
    return { status: res.status, body: res.json as { status: string; checks: Record<string, string> } };
  };
  const metric = async (name: string) => {
    const text = await (await fetch(`${url}/metrics`)).text();
    return Number(new RegExp(`^${name}\\{[^}]*\\} (\\S+)$`, 'm').exec(text)?.[1]);
  };
  const stored = async () => ({
    events: Number((await scratch.db('order_events').count<{ n: string }[]>({ n: '*' }))[0]!.n),
    keys: Number((await scratch.db('idempotency_keys').count<{ n: string }[]>({ n: '*' }))[0]!.n),
    outbox: Number((await scratch.db('outbox').count<{ n: string }[]>({ n: '*' }))[0]!.n),
  });

  it('refuses new orders quickly and stores nothing while the backlog is over the limit, then accepts them again once it clears', async () => {
    // Open: orders are placed, and stay Pending (nobody decides them).
    expect((await ready()).body.checks.admission).toBe('ok');
    const placed: string[] = [];
    for (let i = 0; i < LATE_ORDERS; i++) {
      const res = await place();
      expect(res.status).toBe(201);
      expect(res.json.status).toBe('Pending');
      placed.push(res.json.orderId as string);
    }
    // The signal is the LATE_ORDERS-th oldest: with exactly that many pending, the next rank waits for nothing.
    expect(await pendingAgeAtRank(scratch.db, LATE_ORDERS + 1)).toBe(0);

    // Closed once both have waited past the limit; /ready stays 200 and says so.
    const closed = await waitUntil(
      async () => {
        const r = await ready();
        return r.body.checks.admission?.startsWith('degraded: ') ? r : undefined;
      },
      { timeoutMs: 10_000, what: "/ready's admission check to report refusing" },
    );
    expect(closed.status).toBe(200);
    expect(closed.body.status).toBe('degraded');
    expect(closed.body.checks.admission).toMatch(/refusing new orders \(503 overloaded\)/);
    expect(await pendingAgeAtRank(scratch.db, LATE_ORDERS)).toBeGreaterThan(MAX_AGE_MS / 1000);
    expect(await metric('orders_admission_closed')).toBe(1);

    const before = await stored();
    for (let i = 0; i < 5; i++) {
      const started = performance.now();
      const res = await place();
      const tookMs = performance.now() - started;
      expect(res.status).toBe(503);
      expect(res.json.error.code).toBe('overloaded');
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(tookMs).toBeLessThan(REFUSAL_BUDGET_MS);
    }
    expect(await stored()).toEqual(before);
    expect(await metric('orders_admission_refused_total')).toBe(5);
    // Authentication still comes first.
    expect((await http('POST', `${url}/orders`, order())).status).toBe(401);

    // Reads and cancels are not gated; cancelling one and confirming the other (what the stock outcome consumer does) clears the backlog.
    const [cancelled, confirmed] = placed as [string, string];
    expect((await asAdmin('GET', `${url}/orders/${confirmed}`)).json).toMatchObject({ status: 'Pending' });
    expect((await asAdmin('POST', `${url}/orders/${cancelled}/cancel`)).json).toMatchObject({ status: 'Cancelled' });
    await inTransaction(scratch.db, (trx) => execute(trx, outbox, { type: 'ConfirmOrder', orderId: confirmed }));
    await waitUntil(async () => (await ready()).body.checks.admission === 'ok', { timeoutMs: 10_000, what: "/ready's admission check to be ok again" });
    expect(await metric('orders_admission_closed')).toBe(0);

    const again = await place();
    expect(again.status).toBe(201);
    expect(again.json.status).toBe('Pending');
    expect((await stored()).events).toBe(before.events + 3); // OrderCancelled, OrderConfirmed, and the new OrderPlaced
  }, 60_000);
});
