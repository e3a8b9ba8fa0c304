// Shoppers own their baskets and orders (docs/security.md "Shoppers, tokens and rate limits"), against the real
// stack: basket (MongoDB-wire), order-command and order-query (PostgreSQL, Kafka) in-process. Every
// refusal is checked to have written nothing; the rate limit answers 429 and recovers.
import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import type { Producer } from 'kafkajs';
import { waitUntil } from '@qtshop/shared/platform';
import { createDb, createKafka, loadInfra, type Knex } from '@qtshop/shared/infra';
import { applyProduct } from '../../services/basket/src/domain/basket';
import { basketForTest, publishOutboxRow, type BasketForTest } from '../support/basket';
import { ADMIN, http, orderCommandForTest, orderQueryForTest, shopper } from '../support/services';

type Svc = Awaited<ReturnType<typeof orderCommandForTest>>;
let basket: BasketForTest;
let orderCommand: Svc;
let orderQuery: Svc;
let orders: Knex;
let orderQueryDb: Knex;
let producer: Producer;
const infra = loadInfra();
// Customers of this run only: the orders databases are shared with other tests.
const run = randomUUID().slice(0, 8);
const alice = `alice-${run}`;
const bob = `bob-${run}`;
const productId = randomUUID();
let A: Record<string, string>;
let B: Record<string, string>;

beforeAll(async () => {
  // Rate limits small enough to reach: a burst of 3, then one write per second.
  const limits = { RATE_LIMIT_BURST: '3', RATE_LIMIT_PER_MINUTE: '60' };
  [basket, orderCommand, orderQuery] = [await basketForTest(limits), await orderCommandForTest(limits), await orderQueryForTest()];
  orders = createDb(infra, 'orders', { max: 2 });
  orderQueryDb = createDb(infra, 'order_query', { max: 2 });
  await orders('product_prices').insert({ product_id: productId, price: 1500 });
  await applyProduct(basket.db, { productId, name: 'Mug', description: '', type: 'kitchen', brand: 'Acme', pictureUrl: '', price: 1500, version: 1 });
  producer = createKafka(infra.kafka, 'test-identity').producer({ idempotent: true });
  await producer.connect();
  [A, B] = [await shopper(alice), await shopper(bob)];
}, 120_000);
afterAll(async () => {
  await producer?.disconnect();
  await orders?.destroy();
  await orderQueryDb?.destroy();
  await Promise.all([basket?.stop(), orderCommand?.stop(), orderQuery?.stop()]);
});

const basketUrl = (id: string) => `${basket.url}/baskets/${id}`;
const lines = (quantity: number) => ({ items: [{ productId, quantity }] });
const order = (basketId: string) => ({ basketId, items: [{ productId, price: 1500, quantity: 1 }] });
const eventCount = async () => Number((await orders('order_events').count<{ n: string }[]>({ n: '*' }))[0]!.n);
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const secret = new TextEncoder().encode('dev-jwt-secret-change-me');
const token = (claims: { sub: string; aud?: string; exp?: number }, key = secret) =>
  new SignJWT({})
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(claims.sub)
    .setIssuer('qtshop')
    .setAudience(claims.aud ?? 'qtshop')
    .setIssuedAt()
    .setExpirationTime(claims.exp ?? '1h')
    .sign(key);

describe("a basket is its customer's", () => {
  it('lets the customer write and read it, refuses another customer (403) and anyone without a valid token (401), and writes nothing for them', async () => {
    expect((await http('PUT', basketUrl(alice), lines(2), A)).status).toBe(201);
    const before = (await http('GET', basketUrl(alice), undefined, A)).json;
    expect(before).toMatchObject({ basketId: alice, items: [{ productId, quantity: 2 }] });

    const refusals = [
      ['GET by another customer', await http('GET', basketUrl(alice), undefined, B), 403, 'forbidden'],
      ['PUT by another customer', await http('PUT', basketUrl(alice), lines(9), B), 403, 'forbidden'],
      ['DELETE by another customer', await http('DELETE', basketUrl(alice), undefined, B), 403, 'forbidden'],
      ['PUT without a token', await http('PUT', basketUrl(alice), lines(9)), 401, 'unauthorized'],
      [
        'DELETE with a token signed by another key',
        await http('DELETE', basketUrl(alice), undefined, bearer(await token({ sub: alice }, new TextEncoder().encode('not the secret')))),
        401,
        'invalid_token',
      ],
      [
        'PUT with an expired token',
        await http('PUT', basketUrl(alice), lines(9), bearer(await token({ sub: alice, exp: Math.floor(Date.now() / 1000) - 60 }))),
        401,
        'token_expired',
      ],
      [
        // A read: the three writes above without a valid token spent this address's burst of 3.
        'GET with a token for another audience',
        await http('GET', basketUrl(alice), undefined, bearer(await token({ sub: alice, aud: 'another-shop' }))),
        401,
        'invalid_token',
      ],
      ['GET with garbage', await http('GET', basketUrl(alice), undefined, bearer('not-a-token')), 401, 'invalid_token'],
    ] as const;
    expect(refusals.map(([what, r]) => [what, r.status, r.json?.error?.code])).toEqual(refusals.map(([what, , status, code]) => [what, status, code]));
    expect(refusals.filter(([, r]) => r.status === 401).every(([, r]) => r.headers.get('www-authenticate') === 'Bearer')).toBe(true);
    expect((await http('GET', basketUrl(alice), undefined, A)).json).toEqual(before);

    // The admin token acts for every customer.
    expect((await http('GET', basketUrl(alice), undefined, ADMIN)).json).toEqual(before);
  });
});

describe("orders are their customer's", () => {
  it("places an order only from the caller's own basket, records the customer, and shows it to nobody else", async () => {
    const placed = await http('POST', `${orderCommand.url}/orders`, order(alice), A);
    expect(placed.status).toBe(201);
    expect(placed.json).toMatchObject({ basketId: alice, customerId: alice, status: 'Pending' });
    const orderId = placed.json.orderId as string;
    const [stored] = await orders('order_events').where({ order_id: orderId, version: 1 });
    expect(stored.data).toMatchObject({ basketId: alice, customerId: alice });

    const events = await eventCount();
    expect((await http('POST', `${orderCommand.url}/orders`, order(alice), B)).json?.error?.code).toBe('forbidden');
    expect((await http('POST', `${orderCommand.url}/orders`, order(alice))).status).toBe(401);
    expect((await http('POST', `${orderCommand.url}/orders`, order(alice), bearer('not-a-token'))).status).toBe(401);
    expect(await eventCount()).toBe(events);

    expect((await http('GET', `${orderCommand.url}/orders/${orderId}`, undefined, A)).status).toBe(200);
    expect((await http('GET', `${orderCommand.url}/orders/${orderId}`, undefined, B)).status).toBe(404);
    expect((await http('GET', `${orderCommand.url}/orders/${orderId}/events`, undefined, B)).status).toBe(404);
    expect((await http('GET', `${orderCommand.url}/orders/${orderId}`)).status).toBe(401);
    expect((await http('GET', `${orderCommand.url}/orders/${orderId}`, undefined, ADMIN)).json).toMatchObject({ orderId, customerId: alice });
  });

  it("an Idempotency-Key is the customer's own: another customer's request with the same key places its own order", async () => {
    const key = randomUUID();
    await http('PUT', basketUrl(bob), lines(1), B);
    const first = await http('POST', `${orderCommand.url}/orders`, order(alice), { ...A, 'idempotency-key': key });
    const other = await http('POST', `${orderCommand.url}/orders`, order(bob), { ...B, 'idempotency-key': key });
    expect([first.status, other.status]).toEqual([201, 201]);
    expect(other.json.orderId).not.toBe(first.json.orderId);
    expect(other.headers.get('idempotent-replayed')).toBeNull();
    expect((await http('POST', `${orderCommand.url}/orders`, order(alice), { ...A, 'idempotency-key': key })).json.orderId).toBe(first.json.orderId);
  });

  it("order-query lists and returns only the caller's orders; the admin sees them all", async () => {
    const [mine, theirs] = [randomUUID(), randomUUID()];
    for (const [orderId, customerId] of [
      [mine, alice],
      [theirs, bob],
    ] as const) {
      await publishOutboxRow(producer, {
        aggregatetype: 'order',
        aggregateid: orderId,
        type: 'OrderPlaced',
        payload: { orderId, basketId: customerId, customerId, items: [{ productId, price: 1500, quantity: 1 }], total: 1500, version: 1 },
      });
    }
    await waitUntil(async () => (await orderQueryDb('orders').whereIn('order_id', [mine, theirs])).length === 2, {
      timeoutMs: 30_000,
      what: 'both orders projected',
    });

    const list = await http('GET', `${orderQuery.url}/orders?limit=200`, undefined, A);
    expect(list.status).toBe(200);
    expect(list.json.items.every((o: { customerId: string }) => o.customerId === alice)).toBe(true);
    expect(list.json.items.map((o: { orderId: string }) => o.orderId)).toContain(mine);
    expect((await http('GET', `${orderQuery.url}/orders/${mine}`, undefined, A)).json).toMatchObject({ orderId: mine, customerId: alice });
    expect((await http('GET', `${orderQuery.url}/orders/${theirs}`, undefined, A)).status).toBe(404);
    expect((await http('GET', `${orderQuery.url}/orders`)).status).toBe(401);

    const all = await http('GET', `${orderQuery.url}/orders?limit=200`, undefined, ADMIN);
    expect(new Set(all.json.items.map((o: { customerId: string | null }) => o.customerId))).toEqual(expect.objectContaining(new Set([alice, bob])));
    expect((await http('GET', `${orderQuery.url}/orders/${theirs}`, undefined, ADMIN)).status).toBe(200);
  });
});

describe("rate limits on shoppers' writes", () => {
  it('answers 429 with Retry-After once a customer spent their burst, writes nothing then, counts it, and lets them write again once refilled', async () => {
    const carol = `carol-${run}`;
    const C = await shopper(carol);
    const statuses: number[] = [];
    for (let i = 1; i <= 4; i++) statuses.push((await http('PUT', basketUrl(carol), lines(i), C)).status);
    expect(statuses).toEqual([201, 200, 200, 429]);
    const limited = await http('PUT', basketUrl(carol), lines(9), C);
    expect(limited.status).toBe(429);
    expect(limited.json.error.code).toBe('rate_limited');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect((await http('GET', basketUrl(carol), undefined, C)).json.items[0].quantity).toBe(3);
    // Another customer has a bucket of their own; the admin token is not limited.
    expect((await http('PUT', basketUrl(`dave-${run}`), lines(1), await shopper(`dave-${run}`))).status).toBe(201);
    expect((await http('PUT', basketUrl(carol), lines(3), ADMIN)).status).toBe(200);

    await waitUntil(async () => (await http('PUT', basketUrl(carol), lines(5), C)).status === 200, {
      timeoutMs: 5_000,
      everyMs: 250,
      what: 'the bucket to refill',
    });
    expect((await http('GET', basketUrl(carol), undefined, C)).json.items[0].quantity).toBe(5);
    const metrics = await (await fetch(`${basket.url}/metrics`)).text();
    expect(metrics).toMatch(/http_rate_limited_total\{route="PUT \/baskets\/:basketId",service="basket"\} [2-9]/);
  });

  it('limits calls without a valid token by address, and placing orders too', async () => {
    // The address's bucket (burst 3) may already be partly spent by the refusals above: 401s until it is empty, then 429.
    const statuses: number[] = [];
    while (statuses.length < 5 && statuses.at(-1) !== 429)
      statuses.push((await http('POST', `${orderCommand.url}/orders`, order(alice), bearer('not-a-token'))).status);
    expect(statuses.at(-1)).toBe(429);
    expect(statuses.slice(0, -1).every((s) => s === 401)).toBe(true);
    expect(statuses.length).toBeLessThanOrEqual(4);
  });
});
